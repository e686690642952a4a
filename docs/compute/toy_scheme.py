"""A toy offer/accept scheme for the compute marketplace's scheme engine (spec 2: a
scheme is data; a user adds one without touching the engine).

A seller asks a price; the buyer bids at most the last ask, the seller may lower its
ask; whoever did not send the last price may accept it; either may withdraw. A topic
left OPEN for 60 s without a reply is withdrawn by the scheme.

Check it with ``defisim scheme check docs/compute/toy_scheme.py``; run it on a
message bus with ``TableScheme(SCHEME, "seller", "buyer", close_message=("withdraw",
"why"))``.
"""

from defisim.protocols.compute.schemes import (
    FieldSpec,
    MessageType,
    SchemeDefinition,
    Timers,
    Transition,
)

PRICE = FieldSpec("price", (int,))


def _last(topic, kind):
    """The last accepted message of type ``kind`` on the topic, or None."""
    return next((e for e in reversed(topic.history) if e.type == kind), None)


def bid_at_most_ask(ctx):
    """A bid above the seller's last ask is refused (``above_ask``)."""
    ask = _last(ctx.topic, "ask")
    return "above_ask" if ask and ctx.envelope.body["price"] > ask.body["price"] else None


def ask_lowered(ctx):
    """A new ask must be below the previous one (``ask_not_lowered``)."""
    ask = _last(ctx.topic, "ask")
    return "ask_not_lowered" if ask and ctx.envelope.body["price"] >= ask.body["price"] \
        else None


SCHEME = SchemeDefinition(
    name="offer_accept",
    roles=("seller", "buyer"),
    messages=(
        MessageType("ask", ("seller",), (PRICE,), price=True),
        MessageType("bid", ("buyer",), (PRICE,), price=True),
        MessageType("accept", ("seller", "buyer")),
        MessageType("withdraw", ("seller", "buyer"),
                    (FieldSpec("why", (str,), required=False),)),
    ),
    states=("START", "OPEN", "DEAL", "WITHDRAWN"),
    initial_state="START",
    terminal_states=("DEAL", "WITHDRAWN"),
    transitions=(
        Transition("START", ("seller",), "ask", "OPEN"),
        Transition("OPEN", ("buyer",), "bid", "OPEN", ("bid_at_most_ask",), turn=True),
        Transition("OPEN", ("seller",), "ask", "OPEN", ("ask_lowered",), turn=True),
        Transition("OPEN", ("seller", "buyer"), "accept", "DEAL", turn=True),
        Transition("OPEN", ("seller", "buyer"), "withdraw", "WITHDRAWN"),
    ),
    checks={"bid_at_most_ask": bid_at_most_ask, "ask_lowered": ask_lowered},
    timers=Timers(reply_timeout_s=60.0, reply_states=("OPEN",)),
    closed_state="WITHDRAWN",
    price_field="price",
)
