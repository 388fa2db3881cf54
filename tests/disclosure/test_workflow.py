"""The state machine: every transition in the table is allowed for its actor, every other
(state, action) pair is refused with 409, and every other actor with 403."""

from __future__ import annotations

import itertools

import pytest

from rdap.disclosure import workflow
from rdap.errors import Conflict, Forbidden

LEGAL = [(t.source, t.action, t.actor, t.target) for t in workflow.TRANSITIONS]
ILLEGAL = [
    (status, action)
    for status, action in itertools.product((None, *workflow.STATUSES), workflow.ACTIONS)
    if not workflow.allowed(status, action)
]
ACTOR_OF = {t.action: t.actor for t in workflow.TRANSITIONS}


@pytest.mark.parametrize(("source", "action", "actor", "target"), LEGAL)
def test_every_legal_transition(source, action, actor, target) -> None:
    assert workflow.transition(source, action, actor) == target


@pytest.mark.parametrize(("source", "action", "actor", "target"), LEGAL)
def test_every_other_actor_is_refused(source, action, actor, target) -> None:
    for other in set(workflow.ACTORS) - {actor}:
        with pytest.raises(Forbidden):
            workflow.transition(source, action, other)


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_every_illegal_transition_is_a_conflict(status, action) -> None:
    with pytest.raises(Conflict):
        workflow.transition(status, action, ACTOR_OF[action])


def test_the_table_is_complete_and_consistent() -> None:
    assert len(LEGAL) + len(ILLEGAL) == (len(workflow.STATUSES) + 1) * len(workflow.ACTIONS)
    # Final states have no way out; open and granted states each have one.
    final = {workflow.DENIED, workflow.CANCELLED, workflow.EXPIRED, workflow.REVOKED}
    assert not any(t.source in final for t in workflow.TRANSITIONS)
    assert {t.source for t in workflow.TRANSITIONS} == {None} | workflow.OPEN | workflow.GRANTED
    assert {t.target for t in workflow.TRANSITIONS} == set(workflow.STATUSES)
    # The examples of disclosure.md §5.18.
    with pytest.raises(Conflict):
        workflow.transition(workflow.DENIED, workflow.APPROVE, workflow.STAFF)
    with pytest.raises(Conflict):
        workflow.transition(workflow.CANCELLED, workflow.PROVIDE_INFORMATION, workflow.OWNER)
    with pytest.raises(Forbidden):
        workflow.transition(workflow.ACKNOWLEDGED, workflow.APPROVE, workflow.OWNER)


def test_unknown_actions_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        workflow.transition(workflow.ACKNOWLEDGED, "publish", workflow.STAFF)
