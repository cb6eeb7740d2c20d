"""Parses PowerShell scripts with tree-sitter-powershell and reports every
syntax error, so scripts that only run on Windows are checked on Linux too.

Usage: python3 scripts/check-powershell-syntax.py FILE...

This is a parser, not PowerShell: it finds unbalanced braces, unterminated
strings and malformed expressions, but not unknown commands, wrong
parameters or anything else that fails only when the script runs.
scripts/check-release.sh installs the two packages into its venv.
"""

import sys
from pathlib import Path

import tree_sitter
import tree_sitter_powershell


def syntax_errors(node):
    """Yields the ERROR and MISSING nodes under `node`, outermost first."""
    if node.type == "ERROR" or node.is_missing:
        yield node
        return
    for child in node.children:
        yield from syntax_errors(child)


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: check-powershell-syntax.py FILE...", file=sys.stderr)
        return 2
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    failed = 0
    for name in sys.argv[1:]:
        tree = parser.parse(Path(name).read_bytes())
        errors = list(syntax_errors(tree.root_node))
        for node in errors:
            line, column = node.start_point
            problem = f"missing {node.type}" if node.is_missing else "syntax error"
            print(f"{name}:{line + 1}:{column + 1}: {problem}")
        failed += bool(errors)
    print(f"parsed {len(sys.argv) - 1} PowerShell files, {failed} with syntax errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
