"""The held-out split: fixed per image by its content, stable when images are added, in the requested proportions."""

from __future__ import annotations

import numpy as np
import pytest
from holdout import HoldoutRule, Part, array_fingerprint, file_fingerprint, fingerprint


def images(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(8, 8, 1), dtype=np.uint8) for _ in range(count)]


def test_adding_images_moves_none_between_the_parts():
    rule = HoldoutRule(salt="digits")
    old = [array_fingerprint(image) for image in images(400, seed=1)]
    new = old + [array_fingerprint(image) for image in images(600, seed=2)]
    shuffled = list(np.random.default_rng(3).permutation(new))  # rows come back in another order

    before = dict(zip(old, rule.parts(old), strict=True))
    after = dict(zip(shuffled, rule.parts(shuffled), strict=True))

    assert all(after[key] == part for key, part in before.items())
    held_out_before = {key for key, part in before.items() if part == Part.HELD_OUT}
    trained_before = {key for key, part in before.items() if part == Part.TRAINING}
    assert held_out_before <= {key for key, part in after.items() if part == Part.HELD_OUT}
    assert not trained_before & {key for key, part in after.items() if part == Part.HELD_OUT}


def test_parts_have_the_requested_proportions():
    rule = HoldoutRule(salt="x", held_out_fraction=0.2, validation_fraction=0.1)
    parts = rule.parts(fingerprint(str(number).encode()) for number in range(20_000))

    shares = np.bincount(parts, minlength=3) / len(parts)

    assert shares[Part.HELD_OUT] == pytest.approx(0.2, abs=0.01)
    assert shares[Part.VALIDATION] == pytest.approx(0.8 * 0.1, abs=0.01)
    assert shares[Part.TRAINING] == pytest.approx(0.8 * 0.9, abs=0.01)


def test_the_salt_draws_another_held_out_set_and_the_same_salt_the_same_one():
    keys = [fingerprint(str(number).encode()) for number in range(2_000)]

    first, again, other = HoldoutRule("a").parts(keys), HoldoutRule("a").parts(keys), HoldoutRule("b").parts(keys)

    np.testing.assert_array_equal(first, again)
    overlap = np.mean((first == Part.HELD_OUT) & (other == Part.HELD_OUT)) / np.mean(first == Part.HELD_OUT)
    assert overlap < 0.35, "another salt holds out about a fifth of the same images, by chance"


def test_identical_content_shares_a_part_wherever_it_comes_from(tmp_path):
    png = b"\x89PNG pretend image bytes"
    (tmp_path / "cat.png").write_bytes(png)

    assert file_fingerprint(tmp_path / "cat.png") == fingerprint(png)
    same = np.zeros((8, 8), dtype=np.uint8)
    assert array_fingerprint(same) == array_fingerprint(same.copy())
    assert array_fingerprint(same) != array_fingerprint(same.astype(np.float64)), "dtype is part of the content"


def test_validation_images_are_never_held_out_and_a_zero_validation_share_gives_none():
    keys = [fingerprint(str(number).encode()) for number in range(5_000)]

    with_validation = HoldoutRule("s", validation_fraction=0.1).parts(keys)
    without = HoldoutRule("s", validation_fraction=0.0).parts(keys)

    np.testing.assert_array_equal(with_validation == Part.HELD_OUT, without == Part.HELD_OUT)
    assert not np.any(without == Part.VALIDATION)


def test_rules_round_trip_through_metadata_and_compare_by_held_out_images():
    rule = HoldoutRule("digits-cnn", 0.25, 0.1)

    assert HoldoutRule.from_metadata(rule.as_metadata()) == rule
    assert HoldoutRule.from_metadata(None) is None
    assert HoldoutRule.from_metadata({"hash": "md5", "salt": "x", "held_out_fraction": 0.2}) is None
    assert rule.holds_out_the_same_images_as(HoldoutRule("digits-cnn", 0.25, 0.3))
    assert not rule.holds_out_the_same_images_as(HoldoutRule("digits-cnn", 0.2, 0.1))
    assert rule.held_out_key() != HoldoutRule("other", 0.25, 0.1).held_out_key()
    assert "25%" in rule.describe() and "'digits-cnn'" in rule.describe()


@pytest.mark.parametrize(("held_out", "validation"), [(0.0, 0.1), (1.0, 0.1), (0.2, 1.0), (0.2, -0.1)])
def test_fractions_out_of_range_are_refused(held_out, validation):
    with pytest.raises(ValueError, match="fraction"):
        HoldoutRule("s", held_out, validation)
