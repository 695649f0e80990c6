"""docs/cli.md's reference is generated from the parser (python -m tracker.cli_docs) and must be up to date.

The prose of docs/cli.md is hand-written; between its markers are each command's usage and a table of
its arguments and options, rendered from tracker.cli.build_parser(). When a test here fails because the
page is stale, run `make docs` (python -m tracker.cli_docs --write) and commit docs/cli.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tracker import cli, cli_docs

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "cli.md"
STALE = "docs/cli.md is stale: run `make docs` (python -m tracker.cli_docs --write) and commit docs/cli.md"


def walk(parser: argparse.ArgumentParser, name: str = "tracker"):
    """(name, parser) of the program and every command and sub-command, found here without the generator."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from walk(sub, f"{name} {sub_name}")


def command(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    return dict(walk(parser))[name]


def docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def generated(text: str, name: str) -> str:
    """The generated block of one command in `text`, markers included."""
    begin = cli_docs.BEGIN.format(command=name)
    assert text.count(begin) == 1, f"docs/cli.md has {text.count(begin)} generated blocks for `{name}`"
    start = text.index(begin)
    return text[start : text.index(cli_docs.END, start) + len(cli_docs.END)]


# --------------------------------------------------------------------------- the committed page


def test_docs_cli_md_is_what_the_generator_writes():
    text = docs()
    problems = cli_docs.stale(text)
    assert not problems, "\n".join(problems)
    assert cli_docs.render(text) == text, STALE


def test_the_check_passes_from_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "tracker.cli_docs", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_every_command_has_a_section_and_its_options_in_the_docs():
    text = docs()
    names = [name for name, _ in walk(cli.build_parser())]
    assert {"tracker ingest", "tracker user add", "tracker user list", "tracker user disable"} <= set(names)
    assert {"tracker user unlock", "tracker user log", "tracker brief", "tracker risk"} <= set(names)
    for name, parser in walk(cli.build_parser()):
        block = generated(text, name)
        if name != "tracker":  # the page's title is the program's section
            assert re.search(rf"^##+ `{re.escape(name)}`$", text, re.M), f"docs/cli.md has no heading `{name}`"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                for sub_name in action.choices:
                    assert f"[`{name} {sub_name}`](#{name.replace(' ', '-')}-{sub_name})" in block, (name, sub_name)
            elif action.option_strings:
                for flag in action.option_strings:
                    assert f"| `{flag}` |" in block, f"{flag} of `{name}` is not in docs/cli.md"
            else:
                assert f"| `{action.metavar or action.dest}` |" in block, (name, action.dest)
            if action.help and not isinstance(action, argparse._SubParsersAction):
                shown = " ".join(action.help.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
                assert f" {shown} |" in block, f"the help of {action.dest} of `{name}` is not in docs/cli.md"


def test_the_usage_lines_say_what_argparse_says(monkeypatch):
    monkeypatch.setenv("COLUMNS", "10000")  # argparse's own usage on one line
    text = docs()
    for name, parser in walk(cli.build_parser()):
        usage = generated(text, name).split("```text\n", 1)[1].split("\n```", 1)[0]
        assert " ".join(usage.split()) == " ".join(parser.format_usage().split()), name
        assert max(map(len, usage.splitlines())) <= cli_docs.WIDTH or "\n" not in usage, name


def test_help_shows_the_texts_of_the_reference(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["ingest", "--help"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "a two-digit year is 20yy" in out and "as <store>/mappings/NAME.toml" in out


# --------------------------------------------------------------------------- the check can fail


def test_a_new_option_makes_the_docs_stale():
    parser = cli.build_parser()
    command(parser, "tracker ingest").add_argument("--fake-option", metavar="X", help="not in the docs yet")
    text = docs()
    problems = cli_docs.stale(text, parser)
    assert "docs/cli.md: the reference of `tracker ingest` differs from the parser in tracker/cli/parser.py" in problems
    assert problems[-1] == STALE
    assert len(problems) == 2  # only ingest's block is behind
    rendered = cli_docs.render(text, parser)
    assert rendered != text
    assert "| `--fake-option` | `X` |  | not in the docs yet |" in generated(rendered, "tracker ingest")
    assert "[--fake-option X]" in generated(rendered, "tracker ingest")
    assert cli_docs.stale(rendered, parser) == []
    outside = cli_docs.BLOCK.sub("", text)
    assert cli_docs.BLOCK.sub("", rendered) == outside  # the prose is kept as it is


@pytest.mark.parametrize(
    ("name", "flag", "change"),
    [
        ("tracker ingest", "--dry-run", {"help": "validate only"}),
        ("tracker brief", "--lang", {"default": "en"}),
        ("tracker drops", "--format", {"choices": ("csv", "json", "xml")}),
        ("tracker user log", "--since", {"metavar": "DAY"}),
        ("tracker coverage", "--as-of", {"required": True}),
    ],
)
def test_a_changed_help_default_choice_metavar_or_requirement_makes_the_docs_stale(name, flag, change):
    parser = cli.build_parser()
    (action,) = [a for a in command(parser, name)._actions if flag in a.option_strings]
    for key, value in change.items():
        setattr(action, key, value)
    assert f"the reference of `{name}` differs" in "\n".join(cli_docs.stale(docs(), parser))


def test_a_new_command_gets_a_section_at_the_end_and_the_check_fails():
    parser = cli.build_parser()
    (sub,) = [a for a in command(parser, "tracker user")._actions if isinstance(a, argparse._SubParsersAction)]
    sub.add_parser("rename", help="a new action").add_argument("name", metavar="NAME")
    text = docs()
    problems = cli_docs.stale(text, parser)
    assert "docs/cli.md has no generated reference for `tracker user rename`" in problems
    assert "docs/cli.md: the reference of `tracker user` differs from the parser in tracker/cli/parser.py" in problems
    rendered = cli_docs.render(text, parser)
    section = "\n### `tracker user rename`\n\na new action\n\n" + cli_docs.BEGIN.format(command="tracker user rename")
    assert section in rendered
    assert rendered.index(section) > rendered.index("## `tracker risk`")  # at the end, to be moved by hand
    assert rendered.endswith(cli_docs.END + "\n")
    assert "| [`tracker user rename`](#tracker-user-rename) | a new action |" in rendered
    assert cli_docs.stale(rendered, parser) == []


def test_a_block_of_an_unknown_command_or_an_unclosed_marker_is_an_error():
    text = docs()
    unknown = text + "\n" + cli_docs.BEGIN.format(command="tracker nothing") + "\n" + cli_docs.END + "\n"
    with pytest.raises(cli_docs.DocsError, match="'tracker nothing', which is not a command"):
        cli_docs.render(unknown)
    assert "not a command of the parser" in cli_docs.stale(unknown)[0]
    twice = text + "\n" + generated(text, "tracker gc") + "\n"
    with pytest.raises(cli_docs.DocsError, match="two generated blocks name 'tracker gc'"):
        cli_docs.render(twice)
    unclosed = text.replace(cli_docs.END, "", 1)
    with pytest.raises(cli_docs.DocsError, match="begin and .* end markers"):
        cli_docs.render(unclosed)


def test_check_then_write_on_a_stale_copy(tmp_path, capsys):
    text = docs()
    row = "| `--dry-run` |  |  | validate and report only; store nothing (and save no mapping) |"
    assert row in text
    stale = text.replace(row, "| `--dry-run` |  |  | an edit by hand |").replace(
        "Reads a file, validates all of it", "Reads a file (a prose edit), validates all of it"
    )
    page = tmp_path / "cli.md"
    page.write_text(stale, encoding="utf-8")
    assert cli_docs.main(["--check", "--path", str(page)]) == 1
    err = capsys.readouterr().err
    assert "the reference of `tracker ingest` differs" in err and "make docs" in err
    assert "-| `--dry-run` |  |  | an edit by hand |" in err  # the diff
    assert page.read_text(encoding="utf-8") == stale  # --check writes nothing
    assert cli_docs.main(["--write", "--path", str(page)]) == 0
    assert cli_docs.main(["--check", "--path", str(page)]) == 0
    fixed = page.read_text(encoding="utf-8")
    assert row in fixed and "Reads a file (a prose edit), validates all of it" in fixed  # prose kept
    assert fixed == text.replace(
        "Reads a file, validates all of it", "Reads a file (a prose edit), validates all of it"
    )
