"""``defisim scheme check FILE`` (issue 14: bad input is one ``error:`` line, exit 2):
the example scheme of docs/compute/toy_scheme.py passes and runs on the bus; each
malformed variant of it fails naming the file (and line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from defisim.cli import app
from defisim.protocols.compute.schemes import Envelope, MessageBus, MessageRejected, TableScheme
from defisim.protocols.compute.schemes.check import load_scheme_file

TOY = Path(__file__).resolve().parents[1] / "docs" / "compute" / "toy_scheme.py"
runner = CliRunner()


def check(path: Path):
    r = runner.invoke(app, ["scheme", "check", str(path)])
    return r.exit_code, r.stdout, r.stderr


def variant(tmp_path: Path, old: str, new: str, name: str = "bad.py") -> Path:
    text = TOY.read_text()
    assert text.count(old) == 1, old
    p = tmp_path / name
    p.write_text(text.replace(old, new))
    return p


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_the_example_scheme_passes_with_its_summary():
    code, out, err = check(TOY)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "scheme 'offer_accept': ok",
        "roles: seller, buyer",
        "messages (4): ask (seller), bid (buyer), accept (seller/buyer), "
        "withdraw (seller/buyer)",
        "states (4): START, OPEN, DEAL, WITHDRAWN",
        "transitions: 5",
        "terminal states: DEAL, WITHDRAWN",
        "timers: yes"]


def test_the_example_scheme_negotiates_on_the_bus():
    bus = MessageBus(TableScheme(load_scheme_file(TOY), "seller", "buyer",
                                 close_message=("withdraw", "why")), np.random.default_rng(0))
    assert isinstance(bus.publish("S", "t1", "ask", {"price": 100}, 0.0), Envelope)
    out = bus.publish("B", "t1", "bid", {"price": 120}, 1.0)
    assert isinstance(out, MessageRejected) and out.reason == "above_ask"
    out = bus.publish("S", "t1", "ask", {"price": 100}, 1.0)
    assert isinstance(out, MessageRejected) and out.reason == "not_your_turn"
    assert isinstance(bus.publish("B", "t1", "bid", {"price": 80}, 2.0), Envelope)
    out = bus.publish("S", "t1", "ask", {"price": 100}, 3.0)
    assert isinstance(out, MessageRejected) and out.reason == "ask_not_lowered"
    assert isinstance(bus.publish("S", "t1", "ask", {"price": 90}, 3.0), Envelope)
    assert isinstance(bus.publish("B", "t1", "accept", {}, 4.0), Envelope)
    assert bus.topic_state("t1").state == "DEAL"
    # a second topic left unanswered: the scheme withdraws it 60 s after the last move
    bus.publish("S", "t2", "ask", {"price": 50}, 10.0)
    (env,) = bus.tick(100.0)
    assert (env.type, env.body, env.time) == ("withdraw", {"why": "timeout"}, 70.0)
    assert bus.topic_state("t2").state == "WITHDRAWN"


def one_error(code: int, out: str, err: str) -> str:
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# (old text, new text, the problem the error must name)
ENGINE_CASES = {
    "unknown_state": ('Transition("OPEN", ("seller", "buyer"), "accept", "DEAL", turn=True)',
                      'Transition("OPEN", ("seller", "buyer"), "accept", "SOLD", turn=True)',
                      "transition 3 (OPEN, accept): unknown state 'SOLD'"),
    "no_sender": ('MessageType("accept", ("seller", "buyer"))', 'MessageType("accept", ())',
                  "message type 'accept' has no sender role"),
    "duplicate_row": ('Transition("START", ("seller",), "ask", "OPEN"),',
                      'Transition("START", ("seller",), "ask", "OPEN"),\n'
                      '        Transition("START", ("seller",), "ask", "OPEN"),',
                      "transition 1 (START, ask): duplicate row"),
    "undeclared_check": ('checks={"bid_at_most_ask": bid_at_most_ask, ',
                         'checks={',
                         "transition 1 (OPEN, bid): undeclared check 'bid_at_most_ask'"),
    "unknown_role": ('MessageType("bid", ("buyer",)', 'MessageType("bid", ("broker",)',
                     "message type 'bid' names unknown roles ['broker']"),
}


@pytest.mark.parametrize("case", sorted(ENGINE_CASES))
def test_a_malformed_definition_is_one_error_with_file_and_line(tmp_path, case):
    old, new, problem = ENGINE_CASES[case]
    p = variant(tmp_path, old, new)
    line = one_error(*check(p))
    assert line == (f"error: {p}:{line_of(p, 'SCHEME = SchemeDefinition(')}: malformed "
                    f"scheme: scheme 'offer_accept': {problem}")


STRUCTURE_CASES = {
    "unreachable": ('states=("START", "OPEN", "DEAL", "WITHDRAWN")',
                    'states=("START", "OPEN", "DEAL", "WITHDRAWN", "LIMBO")',
                    "states ['LIMBO'] are unreachable from 'START'"),
    "row_from_terminal": ('Transition("START", ("seller",), "ask", "OPEN"),',
                          'Transition("START", ("seller",), "ask", "OPEN"),\n'
                          '        Transition("DEAL", ("buyer",), "withdraw", "WITHDRAWN"),',
                          "transition 1 (DEAL, withdraw) leaves terminal state 'DEAL' and "
                          "can never fire"),
    "dead_end": ('"withdraw", "WITHDRAWN"),\n',
                 '"withdraw", "WITHDRAWN"),\n'
                 '        Transition("OPEN", ("buyer",), "withdraw", "HELD"),\n',
                 "state 'HELD' is not terminal but has no transition out (a dead end)"),
    "no_terminal": ('terminal_states=("DEAL", "WITHDRAWN")', 'terminal_states=()',
                    "no terminal state (a topic could never end)"),
}


@pytest.mark.parametrize("case", sorted(STRUCTURE_CASES))
def test_a_whole_table_problem_is_one_error_naming_the_file(tmp_path, case):
    old, new, problem = STRUCTURE_CASES[case]
    if case == "dead_end":
        old, new = 'states=("START", "OPEN", "DEAL", "WITHDRAWN")', \
            'states=("START", "OPEN", "DEAL", "WITHDRAWN", "HELD")'
        p = variant(tmp_path, old, new)
        p.write_text(p.read_text().replace(*STRUCTURE_CASES[case][:2]))
        assert one_error(*check(p)) == (f"error: {p}: malformed scheme: scheme "
                                        f"'offer_accept': {problem}")
        return
    p = variant(tmp_path, old, new)
    line = one_error(*check(p))
    assert line == f"error: {p}: malformed scheme: scheme 'offer_accept': {problem}"


def test_a_syntax_error_names_file_and_line(tmp_path):
    p = variant(tmp_path, 'name="offer_accept",', 'name="offer_accept"')
    line = one_error(*check(p))
    at = line_of(p, 'name="offer_accept"')
    assert line.startswith((f"error: {p}:{at}: SyntaxError: ",
                            f"error: {p}:{at + 1}: SyntaxError: ")), line


@pytest.mark.parametrize("text, message", [
    ("x = 1\n", "defines no scheme"),
    ("SCHEME = 42\n", "SCHEME is a int, not a SchemeDefinition"),
    ("raise RuntimeError('boom')\n", ":1: RuntimeError: boom"),
])
def test_a_file_without_a_usable_scheme(tmp_path, text, message):
    p = tmp_path / "s.py"
    p.write_text(text)
    assert message in one_error(*check(p))


def test_several_schemes_need_a_scheme_variable(tmp_path):
    p = tmp_path / "two.py"
    p.write_text(TOY.read_text().replace("SCHEME = ", "A = ") + "\nimport dataclasses\n"
                 "B = dataclasses.replace(A, name='other')\n")
    assert "defines several schemes ('offer_accept', 'other')" in one_error(*check(p))
    p.write_text(p.read_text() + "SCHEME = B\n")
    code, out, _ = check(p)
    assert code == 0 and out.startswith("scheme 'other': ok")


def test_a_missing_file(tmp_path):
    assert one_error(*check(tmp_path / "nope.py")) == f"error: {tmp_path / 'nope.py'}: no such file"
