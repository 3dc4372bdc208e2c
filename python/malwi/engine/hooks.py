"""Install hooks: what a package runs when it is installed, read without running it.

npm runs a package's `preinstall`, `install` and `postinstall` scripts (and `prepare` for git
and local packages) as shell commands on every machine that installs it: that is where most
npm malware lives. Each script is read as shell, never run:

- inline code given to `node -e/--eval/-p/--print` is JavaScript to compile and score;
- files given to `node` (`node scripts/setup.js`) are install-time code of the package;
- the command itself is a process started at install time: the pipeline compiles it as one, so
  what the model learned about `subprocess` calls in `setup.py` applies to it too;
- downloads (`curl`, `wget`, ...), piping into a shell, and executing what was fetched are
  evidence on their own, stated in words.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

__all__ = ["LIFECYCLE_SCRIPTS", "Hook", "read_hooks", "script_source"]

# The scripts npm runs on install; `prepare` runs for git and local dependencies.
LIFECYCLE_SCRIPTS = ("preinstall", "install", "postinstall", "prepare")
# Programs that fetch from the network, and shells that run what they are given.
DOWNLOADERS = {
    "curl",
    "wget",
    "fetch",
    "invoke-webrequest",
    "iwr",
    "invoke-restmethod",
    "irm",
    "certutil",
    "bitsadmin",
}
SHELLS = {
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "powershell",
    "pwsh",
    "cmd",
    "python",
    "python3",
    "node",
    "perl",
    "ruby",
}
NODE_EVAL = {"-e", "--eval", "-p", "--print"}
SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")", "\n"}


class Hook:
    """One lifecycle script of a package: its command, the code it runs, what it shows."""

    __slots__ = ("command", "evidence", "files", "inline", "name")

    def __init__(self, name: str, command: str) -> None:
        self.name = name  # `postinstall`
        self.command = command
        self.inline: list[str] = []  # JavaScript given to `node -e`
        self.files: list[str] = []  # scripts given to `node`, relative to the package
        self.evidence: list[str] = []  # what the command itself does, in words

    def to_dict(self) -> dict[str, Any]:
        return {
            "script": self.name,
            "command": self.command,
            "runs": self.files,
            "inline_code": len(self.inline),
            "evidence": self.evidence,
        }

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {self.command!r})"


def _words(command: str) -> list[str]:
    """The command split as a POSIX shell splits it, operators apart; unbalanced quotes (an
    attacker's choice) end the word where the text ends instead of failing."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    try:
        words.extend(lexer)
    except ValueError:  # no closing quotation: take what is left as one word
        rest = command[len(" ".join(words)) :].strip()
        if rest:
            words.append(rest.strip("'\""))
    return words


def _commands(words: list[str]) -> list[tuple[str, list[str]]]:
    """Simple commands between `&&`, `||`, `;`, `|` and `&`, each with the operator before it."""
    commands: list[tuple[str, list[str]]] = [("", [])]
    for word in words:
        if word in SEPARATORS or set(word) <= set("&|;()"):
            commands.append((word, []))
        else:
            commands[-1][1].append(word)
    return [(before, command) for before, command in commands if command]


def _program(command: list[str]) -> tuple[str, list[str]]:
    """The program a simple command runs (after `VAR=x` assignments, `env`, `sudo`, `exec`), and its arguments."""
    index = 0
    while index < len(command) and (
        "=" in command[index].split("/")[0] or command[index] in ("env", "sudo", "exec", "nohup")
    ):
        index += 1
    if index >= len(command):
        return "", []
    program = command[index].rsplit("/", 1)[-1].lower().removesuffix(".exe")
    return program, command[index + 1 :]


def analyse(name: str, command: str) -> Hook:
    """Reads one script as shell."""
    hook = Hook(name, command)
    for before, simple in _commands(_words(command)):
        program, arguments = _program(simple)
        if program in ("node", "nodejs", "bun", "deno"):
            take = False
            for argument in arguments:
                if take:
                    hook.inline.append(argument)
                    take = False
                elif argument in NODE_EVAL:
                    take = True
                elif argument.startswith(("--eval=", "--print=")):
                    hook.inline.append(argument.split("=", 1)[1])
                elif not argument.startswith("-") and program == "node":
                    hook.files.append(argument.removeprefix("./"))
                    break
        if program in DOWNLOADERS:
            urls = [a for a in arguments if "://" in a]
            hook.evidence.append(f"downloads {urls[0] if urls else 'from the network'} with {program}")
        if program in SHELLS and before == "|":
            hook.evidence.append(f"pipes what the command before printed into {program}")
        if (
            program
            and (simple[0].startswith((".", "/")) or "/" in simple[0])
            and not program.endswith((".js", ".cjs", ".mjs"))
        ):
            hook.evidence.append(f"runs the program {simple[0]}")
        if program == "chmod" and any("+x" in a for a in arguments):
            hook.evidence.append("makes a file executable")
    return hook


def read_hooks(package_json: str) -> list[Hook]:
    """The install-time scripts of a `package.json` (its text); none for text that is not a
    JSON object or has no scripts."""
    try:
        document = json.loads(package_json)
    except ValueError:
        return []
    scripts = document.get("scripts") if isinstance(document, dict) else None
    if not isinstance(scripts, dict):
        return []
    return [analyse(name, scripts[name]) for name in LIFECYCLE_SCRIPTS if isinstance(scripts.get(name), str)]


def script_source(hook: Hook) -> str:
    """The hook's command as JavaScript that starts it, for the compiler: npm runs it as a child
    process, which is what `child_process.execSync` of the command says in malwicode."""
    return (
        f"// npm runs `{hook.name}` when the package is installed\n"
        f"require('child_process').execSync({json.dumps(hook.command)});\n"
    )
