"""The registry's self-checks on synthetic events: who gets blamed when an
order breaks, and the policy replay."""
from __future__ import annotations

from fixtures.events import event
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import audit
from mlver.domain.audit import Assignment, _out_of_order, policy_findings
from mlver.domain.config import Config
from mlver.domain.registry import Event


def _event(name: str, ts: int, commit: str = "c1") -> Event:
    return event(name, commit, ts)


def _longest(xs: list[int]) -> int:
    best = [1] * len(xs)
    for i in range(len(xs)):
        for j in range(i):
            if xs[j] <= xs[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@given(st.lists(st.integers(0, 20), max_size=30))
def test_out_of_order_blames_the_fewest(xs: list[int]) -> None:
    items = list(enumerate(xs))  # distinct items with possibly equal keys
    blamed = _out_of_order(items, lambda item: (item[1],))
    kept = [x for item, x in zip(items, xs, strict=False) if item not in blamed]
    assert kept == sorted(kept)  # the rest is in order
    assert len(blamed) == len(xs) - _longest(xs)  # and no fewer could be blamed


def test_one_post_dated_tag_is_blamed_not_the_honest_ones() -> None:
    events = [_event(f"m#prod#{n}", ts) for n, ts in ((1, 10), (2, 20), (3, 30), (4, 5), (5, 50))]
    # #4 is dated before #1..#3: it is the odd one, whichever of the two dates was forged.
    assert [f.ref for f in audit.counter_order(events)] == ["m#prod#4"]
    assert [f.ref for f in audit.future_dated(events, now=40, skew=5)] == ["m#prod#5"]
    assert audit.future_dated(events, now=46, skew=5) == []


def test_release_order_and_tag_before_commit() -> None:
    events = [_event("m@v0.1.0", 100, "c1"), _event("m@v0.2.0", 200, "c2"), _event("m@v0.3.0", 150, "c3")]
    # Either v0.2.0 was re-made late or v0.3.0 was back-dated: the lower version is
    # blamed, as re-making an old version is the attack this check is for.
    assert [f.ref for f in audit.release_order(events, lambda e: True)] == ["m@v0.2.0"]
    assert audit.release_order(events, lambda e: e.tag.version != "v0.3.0") == []  # not made by mlver: no rule
    late = audit.tagged_before_commit(events, {"c1": 90, "c2": 200 + audit.SKEW + 1, "c3": 150}, skew=audit.SKEW)
    assert [f.ref for f in late] == ["m@v0.2.0"]


def test_policy_replay() -> None:
    policy = Config.from_doc({"policy": {"stages": ["dev", "prod"], "gates": {"prod": {"acc": {"min": 0.9}}}}}).policy

    def assign(tag: str, stage: str, version: str, acc: float | None = 0.95, forced: bool = False,
               rollback: bool = False) -> Assignment:
        return Assignment(tag, "m", stage, version, None if acc is None else {"acc": acc}, forced, rollback)

    history = [
        assign("m#dev#1", "dev", "v1"),
        assign("m#prod#2", "prod", "v1"),  # in order, passes the gate
        assign("m#prod#3", "prod", "v2"),  # skipped dev
        assign("m#dev#4", "dev", "v3"),
        assign("m#prod#5", "prod", "v3", acc=0.5),  # fails the gate
        assign("m#prod#6", "prod", "v3", acc=0.5, forced=True),  # said so: fine
        assign("m#prod#7", "prod", "v1", rollback=True),  # v1 held prod before
        assign("m#prod#8", "prod", "v4", rollback=True),  # v4 never did: judged as an assignment
        assign("m#prod#9", "prod", "v3", acc=None),  # no record: only the order is checked
        assign("m#qa#10", "qa", "v1"),
    ]
    found = {f.ref: f.problem for f in policy_findings(lambda _: policy, history)}
    assert set(found) == {"m#prod#3", "m#prod#5", "m#prod#8", "m#qa#10"}
    assert "(skipped dev)" in found["m#prod#3"]
    assert "(gate acc 0.5 < min 0.9)" in found["m#prod#5"]
    assert "(skipped dev)" in found["m#prod#8"] and "stage qa is not in the policy" in found["m#qa#10"]
    assert policy_findings(lambda _: Config().policy, history) == []
