"""Action spaces and the action mask of the compute environments (spec 8, "Action").

Two forms of the same decision:

- ``"tuple"``: ``Tuple(Discrete(3), Box(0, 1, (1,)))``, the head in the order
  :data:`HEADS` = (counter, accept, reject), the box the counter's price fraction;
- ``"flat"``: ``Box(0, 1, (2,))``, spec 8's flat variant: ``a0 < 1/3`` reject,
  ``a0 < 2/3`` counter, else accept; ``a1`` the price fraction.

The mask (PettingZoo's convention: an int8 vector over the ``Discrete(3)`` head, 1 =
allowed) comes from the scheme table through ``sim.compute.allowed_messages``: a head
is allowed when its message (:data:`HEAD_MESSAGES`: counter an ``offer``, accept an
``accept``, reject a ``terminate``) is one the learner's role may send in the topic's
state (spec 2.3; a provider never accepts, spec 10.1). No decision pending: all zeros.

:class:`MaskedTuple` and :class:`MaskedBox` are the two spaces with a ``sample(mask)``
that takes that flat mask (PettingZoo's API tests pass it as is); the flat box draws
``a0`` uniformly in an allowed head's third. An all-zero mask samples unrestricted
(the action is ignored then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from gymnasium import spaces

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .compute_learners import PendingDecision

__all__ = ["ACCEPT", "COUNTER", "HEADS", "HEAD_MESSAGES", "REJECT", "MaskedBox",
           "MaskedTuple", "action_mask", "make_action_space", "parse_action"]

ActionForm = Literal["flat", "tuple"]
COUNTER, ACCEPT, REJECT = 0, 1, 2
HEADS = ("counter", "accept", "reject")
"""The ``Discrete(3)`` head, spec 8's order."""
HEAD_MESSAGES = ("offer", "accept", "terminate")
"""The ``compute`` scheme's message of each head (spec 2.3)."""
_FLAT_THIRD = {REJECT: 0, COUNTER: 1, ACCEPT: 2}  # head -> third of a0 in the flat form


def _head_mask(mask: Any) -> np.ndarray | None:
    m = np.asarray(mask, dtype=np.int8).reshape(-1)
    if m.shape != (3,):
        raise ValueError(f"a compute action mask has 3 entries, got shape {m.shape}")
    return m if m.any() else None


class MaskedTuple(spaces.Tuple):
    """``Tuple(Discrete(3), Box(0, 1, (1,), float32))`` whose ``sample`` also takes the
    flat head mask (module docstring)."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__((spaces.Discrete(3), spaces.Box(0.0, 1.0, (1,), np.float32)),
                         seed=seed)

    def sample(self, mask: Any = None, probability: Any = None):  # noqa: D102
        if isinstance(mask, np.ndarray | list):
            m = _head_mask(mask)
            mask = (m, None) if m is not None else None
        return super().sample(mask=mask) if mask is not None else super().sample()


class MaskedBox(spaces.Box):
    """``Box(0, 1, (2,), float32)`` whose ``sample`` also takes the flat head mask: a
    head drawn uniformly among the allowed ones, ``a0`` uniformly in its third."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(0.0, 1.0, (2,), np.float32, seed=seed)

    def sample(self, mask: Any = None, probability: Any = None) -> np.ndarray:  # noqa: D102
        out = super().sample()
        m = _head_mask(mask) if mask is not None else None
        if m is not None:
            head = int(self.np_random.choice(np.flatnonzero(m)))
            third = _FLAT_THIRD[head]
            out[0] = np.float32(min((third + self.np_random.random()) / 3, 1.0))
        return out


def make_action_space(form: ActionForm, masked: bool = True) -> spaces.Space:
    """The action space of ``form`` (module docstring); ``masked=False`` gives a plain
    ``Box`` for the flat form (the unmasked parallel/Gymnasium envs)."""
    if form == "tuple":
        return MaskedTuple()
    if form == "flat":
        return MaskedBox() if masked else spaces.Box(0.0, 1.0, (2,), np.float32)
    raise ValueError(f"action form is 'flat' or 'tuple', got {form!r}")


def parse_action(action: Any, form: ActionForm) -> tuple[int, float]:
    """``(head, fraction)`` of an action: the head index in :data:`HEADS`, the price
    fraction in [0, 1].

    Raises:
        ValueError: a flat action that is not two numbers in [0, 1]; a tuple action that
            is not ``(head in {0, 1, 2}, [fraction in [0, 1]])``.
    """
    if form == "flat":
        a = [float(v) for v in np.asarray(action, dtype=float).reshape(-1)]
        if len(a) != 2 or not all(0.0 <= v <= 1.0 for v in a):
            raise ValueError(f"a compute action is two numbers in [0, 1], got {action!r}")
        head = REJECT if a[0] < 1 / 3 else COUNTER if a[0] < 2 / 3 else ACCEPT
        return head, a[1]
    try:
        head_raw, frac_raw = action
        frac = np.asarray(frac_raw, dtype=float).reshape(-1)
        head = int(head_raw)
    except (TypeError, ValueError):
        raise ValueError(f"a compute tuple action is (head, [fraction]), got {action!r}") \
            from None
    if head != head_raw or head not in (0, 1, 2) or frac.shape != (1,) \
            or not 0.0 <= frac[0] <= 1.0:
        raise ValueError(f"a compute tuple action is (head in {{0, 1, 2}}, [fraction in "
                         f"[0, 1]]), got {action!r}")
    return head, float(frac[0])


def action_mask(sim: Simulation, party: str, pending: PendingDecision | None) -> np.ndarray:
    """The head mask of ``party`` for ``pending`` (module docstring).

    Returns:
        int8 array of shape ``(3,)`` in :data:`HEADS` order; zeros when ``pending`` is
        None.
    """
    if pending is None:
        return np.zeros(3, np.int8)
    allowed = sim.compute.allowed_messages(party, pending.topic)
    return np.array([m in allowed for m in HEAD_MESSAGES], np.int8)
