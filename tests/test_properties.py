"""Properties of the compiler over generated input (hypothesis)."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import malwi

LANGUAGES = ["python", "javascript", "typescript"]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def all_tokens(objects: list[malwi.MalwiObject]) -> list[str]:
    return [o.to_token_string() for o in objects]


def check_invariants(source: str | bytes, language: str) -> list[malwi.MalwiObject]:
    objects = malwi.compile_source(source, language)
    assert objects and objects[0].name == "<module>"
    size = len(source.encode() if isinstance(source, str) else source)
    total = sum(len(o.to_token_string()) for o in objects)
    assert total <= 64 * size + 4096, "output stays proportional to input"
    for obj in objects:
        tokens = obj.tokens()
        assert " ".join(tokens) == obj.to_token_string()
        assert all(token and not any(c.isspace() for c in token) for token in tokens)
        first, last = obj.location
        assert 1 <= first <= last
    return objects


@FAST
@given(st.text(max_size=400), st.sampled_from(LANGUAGES))
def test_arbitrary_text_compiles_or_raises_only_malwi_errors(source: str, language: str) -> None:
    with contextlib.suppress(malwi.MalwiError):
        check_invariants(source, language)


@FAST
@given(st.binary(max_size=400), st.sampled_from(LANGUAGES))
def test_arbitrary_bytes_compile_or_raise_only_malwi_errors(source: bytes, language: str) -> None:
    with contextlib.suppress(malwi.MalwiError):
        check_invariants(source, language)


# Code-like text: random tokens from both languages' punctuation and keywords exercise the
# parsers' error recovery much harder than random unicode does.
CODE_PIECES = st.sampled_from(
    [
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ":",
        ";",
        ",",
        ".",
        "=",
        "==",
        "+=",
        "=>",
        "'",
        '"',
        "`",
        "${",
        "\\",
        "#",
        "//",
        "/*",
        "*/",
        "\n",
        "    ",
        "def ",
        "class ",
        "lambda ",
        "import ",
        "from ",
        "async ",
        "await ",
        "function ",
        "return ",
        "if ",
        "else ",
        "try:",
        "except",
        "match ",
        "case ",
        "os.system",
        "exec(",
        "require(",
        "eval(",
        "f'{",
        "b'",
        "r'",
        "'''",
        "0x1F",
        "1e9",
        "@",
        "**",
        "...",
        "?.",
        "??",
        "yield ",
        "with ",
        "as ",
        "x",
        "y",
        "é",
        "\x00",
        "\ufeff",
        "\u2028",
    ]
)


@FAST
@given(st.lists(CODE_PIECES, max_size=80), st.sampled_from(LANGUAGES))
def test_code_like_noise_never_breaks_the_compiler(pieces: list[str], language: str) -> None:
    check_invariants("".join(pieces), language)


@FAST
@given(st.text(max_size=300), st.sampled_from(LANGUAGES))
def test_output_is_deterministic(source: str, language: str) -> None:
    first = malwi.compile_source(source, language)
    second = malwi.compile_source(source, language)
    assert all_tokens(first) == all_tokens(second)
    assert [o.to_hash() for o in first] == [o.to_hash() for o in second]


# ---------------------------------------------------------------------------------------------
# Comments and blank lines do not change tokens

NAMES = st.sampled_from(["a", "b", "data", "url", "os", "cmd", "items", "value"])
LITERALS = st.sampled_from(["1", "42", "0x10", "'text'", "'http://x.example/a'", "None", "True", "3.5"])


@st.composite
def python_expression(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(NAMES)
    if kind == 1:
        return draw(LITERALS)
    if kind == 2:
        return f"{draw(NAMES)}.{draw(NAMES)}({draw(NAMES)}, {draw(LITERALS)})"
    if kind == 3:
        return f"{draw(NAMES)} + {draw(LITERALS)}"
    return f"[{draw(NAMES)}, {draw(LITERALS)}]"


@st.composite
def python_program(draw: st.DrawFn) -> list[str]:
    """Top-level statements, each a list of lines (blocks indented by four spaces)."""
    statements = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.integers(0, 5))
        name, expr = draw(NAMES), draw(python_expression())
        if kind == 0:
            statements.append(f"{name} = {expr}")
        elif kind == 1:
            statements.append(f"{name}({expr})")
        elif kind == 2:
            statements.append(f"if {expr}:\n    {name} = {draw(python_expression())}\nelse:\n    pass")
        elif kind == 3:
            statements.append(f"def f{draw(st.integers(0, 9))}({name}):\n    return {expr}")
        elif kind == 4:
            statements.append(f"import {draw(st.sampled_from(['os', 'subprocess', 'base64', 'json']))}")
        else:
            statements.append(f"for {name} in {expr}:\n    print({name})")
    return statements


def decorate_python(statements: list[str], seed: list[int]) -> str:
    lines: list[str] = []
    for i, statement in enumerate(statements):
        choice = seed[i % len(seed)] if seed else 0
        if choice % 3 == 0:
            lines.append("# a comment line")
        if choice % 2 == 0:
            lines.append("")
        for line in statement.split("\n"):
            trailing = "  # trailing note" if choice % 4 == 1 and not line.rstrip().endswith(":") else ""
            lines.append(line + trailing)
            if choice % 5 == 2:
                lines.append("    # indented comment" if line.startswith("    ") else "")
    return "\n".join(lines) + "\n"


@FAST
@given(python_program(), st.lists(st.integers(0, 20), min_size=1, max_size=10))
def test_python_comments_and_blank_lines_do_not_change_tokens(statements: list[str], seed: list[int]) -> None:
    plain = "\n".join(statements) + "\n"
    decorated = decorate_python(statements, seed)
    assert all_tokens(malwi.compile_source(plain, "python")) == all_tokens(
        malwi.compile_source(decorated, "python")
    )


@st.composite
def javascript_statement(draw: st.DrawFn) -> tuple[str, str]:
    """A statement without and with comments inside it."""
    name, other, literal = draw(NAMES), draw(NAMES), draw(LITERALS).replace("None", "null")
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return f"var {name} = {other} + {literal};", f"var {name} /* c */ = {other} + // c\n {literal};"
    if kind == 1:
        return f"{name}.{other}({literal}, {other});", f"{name}.{other}(/* a */ {literal}, // b\n {other});"
    if kind == 2:
        return (
            f"if ({name}) {{ {other}({literal}); }} else {{ {other}(); }}",
            f"if ({name}) /* x */ {{ {other}({literal}); // y\n }} else {{ /* z */ {other}(); }}",
        )
    if kind == 3:
        number = draw(st.integers(0, 9))
        return (
            f"function f{number}({name}) {{ return {other}; }}",
            f"function f{number}(/* p */ {name}) {{\n\n  return {other}; // r\n}}",
        )
    return (
        f"const {{ {name} }} = require('{other}');",
        f"const {{ /* d */ {name} }} = require(/* m */ '{other}');",
    )


@FAST
@given(st.lists(javascript_statement(), min_size=1, max_size=8))
def test_javascript_comments_and_blank_lines_do_not_change_tokens(pairs: list[tuple[str, str]]) -> None:
    plain = "\n".join(p for p, _ in pairs)
    commented = "/* header */\n\n" + "\n\n// between\n".join(c for _, c in pairs) + "\n// end\n"
    assert all_tokens(malwi.compile_source(plain, "javascript")) == all_tokens(
        malwi.compile_source(commented, "javascript")
    )
