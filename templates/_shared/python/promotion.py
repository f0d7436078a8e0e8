"""Whether a newly registered model takes the champion alias: only after a like-for-like comparison that it wins.

Like for like means the same input shape, the same class list (in the same order: output index i names class i)
and the same held-out images, both models scored on them by the same evaluation. Models that differ in any of
these cannot be compared, so the new version is registered without the alias and the reason says why, unless an
override promotes it anyway. With no champion yet, the first model becomes the champion.

Pure logic: the caller scores both models and moves the alias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_CLASSES_SHOWN = 5  # class names listed in a reason before it says "and N more"


@dataclass(frozen=True)
class Contender:
    """A registered model as the comparison sees it.

    `held_out` identifies the images the model is scored on (for example a held-out rule's key); "" when unknown,
    as for a model registered before the rule was recorded.
    """

    version: str
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    held_out: str


@dataclass(frozen=True)
class Decision:
    """`promote`: move the alias to the candidate. `compared`: both models were scored on the same images."""

    promote: bool
    reason: str
    compared: bool
    overridden: bool = False


def differences(candidate: Contender, champion: Contender) -> list[str]:
    """Why the two cannot be compared like for like; empty when they can."""
    found = []
    if candidate.input_shape != champion.input_shape:
        found.append(
            f"input shape {_shape(candidate.input_shape)} differs from the champion's {_shape(champion.input_shape)}"
        )
    if candidate.class_names != champion.class_names:
        found.append(_class_difference(candidate.class_names, champion.class_names))
    if not champion.held_out:
        found.append("the champion's held-out images are unknown (no held-out rule recorded)")
    elif candidate.held_out != champion.held_out:
        found.append(f"held-out images differ ({candidate.held_out} vs the champion's {champion.held_out})")
    return found


def decide(
    candidate: Contender,
    candidate_score: float,
    champion: Contender | None,
    champion_score: float | None = None,
    *,
    override: bool = False,
    override_name: str = "the override",
    metric: str = "held-out accuracy",
) -> Decision:
    """The decision for `candidate`; `champion_score` is required when the two are comparable.

    A higher score wins; a tie keeps the champion. `override` promotes whatever the comparison says, and the
    reason names `override_name` (say, the flag that sets it) both when it is used and when it could be.
    """
    new = f"version {candidate.version}"
    if champion is None:
        return Decision(
            True, f"no champion yet: {new} becomes the champion ({metric} {candidate_score:.4f})", compared=False
        )
    old = f"champion version {champion.version}"
    problems = differences(candidate, champion)
    if problems:
        why = "; ".join(problems)
        if override:
            return Decision(
                True,
                f"promoted anyway ({override_name}): {new} replaces {old} without a like-for-like comparison: {why}",
                compared=False,
                overridden=True,
            )
        return Decision(
            False,
            f"not compared with {old}: {why}; the champion stays ({override_name} promotes {new} anyway)",
            compared=False,
        )
    if champion_score is None:
        raise ValueError(f"{old} is comparable with {new} but was not scored")
    scores = f"{metric} {candidate_score:.4f} vs {champion_score:.4f} of {old} on the same held-out images"
    if candidate_score > champion_score:
        return Decision(True, f"{scores}: {new} wins and is the champion now", compared=True)
    if override:
        return Decision(
            True,
            f"promoted anyway ({override_name}): {scores}: {new} does not win but replaces it",
            compared=True,
            overridden=True,
        )
    return Decision(False, f"{scores}: {new} does not win; the champion stays", compared=True)


def _shape(shape: Sequence[int]) -> str:
    return "x".join(str(size) for size in shape) if shape else "unknown"


def _class_difference(candidate: Sequence[str], champion: Sequence[str]) -> str:
    if not champion:
        return "the champion's class list is unknown"
    if sorted(candidate) == sorted(champion):
        return f"the same {len(candidate)} classes in another order"
    added = [name for name in candidate if name not in champion]
    gone = [name for name in champion if name not in candidate]
    changes = [f"{len(added)} new ({_names(added)})"] if added else []
    if gone:
        changes.append(f"{len(gone)} gone ({_names(gone)})")
    return "class list differs from the champion's" + (f": {', '.join(changes)}" if changes else "")


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_CLASSES_SHOWN])
    return shown + (f" and {len(names) - _CLASSES_SHOWN} more" if len(names) > _CLASSES_SHOWN else "")
