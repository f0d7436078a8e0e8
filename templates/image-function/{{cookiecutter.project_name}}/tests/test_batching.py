"""The micro-batcher in-process, with a stand-in model: batching, back-pressure, failures, swaps."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from {{ cookiecutter.__package_name }}.batching import MicroBatcher, QueueFull
from {{ cookiecutter.__package_name }}.model import LoadedModel
{%- if cookiecutter.runtime == 'tensorflow' %}
from {{ cookiecutter.__package_name }}.runtime_tensorflow import batch_buckets
{%- endif %}


class SlowModel:
    """Returns each input's first pixel as its 'probability'; records the batch sizes it saw."""

    input_shape = (2, 2, 1)

    def __init__(self, seconds: float = 0.02, fail: bool = False) -> None:
        self.seconds = seconds
        self.fail = fail
        self.batches: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.gate.wait(5)
        self.batches.append(len(batch))
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("model exploded")
        return batch.reshape(len(batch), -1)[:, :1]


def loaded(model: SlowModel, version: str = "1") -> LoadedModel:
    return LoadedModel(name="m", version=version, source="test", class_names=("a",), predict=model)  # type: ignore[arg-type]


def image(value: float) -> np.ndarray:
    return np.full((2, 2, 1), value, dtype=np.float32)


@pytest.fixture
def batcher():
    made: list[MicroBatcher] = []

    def make(**kwargs) -> MicroBatcher:
        instance = MicroBatcher(**{"max_batch_size": 8, "max_wait_ms": 5, "queue_size": 64, **kwargs})
        instance.start()
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.stop()


{% if cookiecutter.runtime == 'tensorflow' -%}
def test_buckets() -> None:
    assert batch_buckets(1) == (1,)
    assert batch_buckets(16) == (1, 2, 4, 8, 16)
    assert batch_buckets(12) == (1, 2, 4, 8, 12)


{% endif -%}
def test_a_lone_request_does_not_wait_for_company(batcher) -> None:
    model = SlowModel(seconds=0)
    queue = batcher(max_wait_ms=500)
    started = time.perf_counter()
    assert queue.submit(image(3), loaded(model)).result(timeout=5)[0] == 3
    assert time.perf_counter() - started < 0.25
    assert model.batches == [1]


def test_requests_arriving_together_share_a_call(batcher) -> None:
    model = SlowModel(seconds=0.05)
    queue = batcher(max_batch_size=8)
    served = loaded(model)
    model.gate.clear()  # hold the model so requests pile up behind the first one
    futures = [queue.submit(image(i), served) for i in range(20)]
    model.gate.set()
    results = [future.result(timeout=10)[0] for future in futures]
    assert results == list(range(20))  # every caller gets its own row back
    assert max(model.batches) == 8
    assert sum(model.batches) == 20
    assert len(model.batches) <= 4


def test_waits_for_requests_still_being_decoded(batcher) -> None:
    model = SlowModel(seconds=0)
    queue = batcher(max_wait_ms=200)
    served = loaded(model)

    def request(value: float) -> float:
        with queue.arriving() as ticket:
            time.sleep(0.01 * value)  # decoding takes a moment
            future = ticket.submit(image(value), served)
        return float(future.result(timeout=5)[0])

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(request, range(4))) == [0, 1, 2, 3]
    assert len(model.batches) < 4


def test_a_full_queue_refuses_at_once(batcher) -> None:
    model = SlowModel(seconds=0)
    queue = batcher(max_batch_size=1, queue_size=2)
    served = loaded(model)
    model.gate.clear()
    first = queue.submit(image(0), served)
    time.sleep(0.05)  # the worker has taken the first item and waits on the model
    queue.submit(image(1), served)
    queue.submit(image(2), served)
    with pytest.raises(QueueFull):
        queue.submit(image(3), served)
    model.gate.set()
    assert first.result(timeout=5)[0] == 0


def test_a_failing_model_fails_its_batch_not_the_worker(batcher) -> None:
    queue = batcher()
    broken = SlowModel(seconds=0, fail=True)
    with pytest.raises(RuntimeError, match="exploded"):
        queue.submit(image(1), loaded(broken)).result(timeout=5)
    assert queue.submit(image(2), loaded(SlowModel(seconds=0))).result(timeout=5)[0] == 2


def test_a_batch_spanning_a_swap_uses_each_items_model(batcher) -> None:
    old_model, new_model = SlowModel(seconds=0), SlowModel(seconds=0)
    queue = batcher()
    old, new = loaded(old_model, "1"), loaded(new_model, "2")
    old_model.gate.clear()
    blocker = queue.submit(image(9), old)
    time.sleep(0.05)
    pending = [queue.submit(image(i), old if i % 2 else new) for i in range(6)]
    old_model.gate.set()
    assert blocker.result(timeout=5)[0] == 9
    assert [future.result(timeout=5)[0] for future in pending] == list(range(6))
    assert sum(old_model.batches) == 1 + 3
    assert sum(new_model.batches) == 3
