"""The code in a defender reply: fenced blocks with their language, and code written outside fences.

A reply is hostile text. A defender that wants to look safe has every reason to hide code from the
static judge (no fence, a wrong language tag), so the language of a fence is trusted only when it
names a language we can scan, anything else is guessed from the code, and runs of code-like lines
outside fences are picked up too. The guess is a heuristic: docs/judges.md says what it misses.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

UNKNOWN = "unknown"

# Fence info words -> our language names (the names the static judge knows, plus a few it cannot scan).
LANGUAGE_ALIASES: dict[str, str] = {
    **dict.fromkeys(("python", "py", "python3", "py3", "python2", "ipython", "pycon", "sage"), "python"),
    **dict.fromkeys(("c", "h"), "c"),
    **dict.fromkeys(("cpp", "c++", "cc", "cxx", "hpp", "hh", "hxx"), "cpp"),
    "java": "java",
    **dict.fromkeys(("javascript", "js", "node", "nodejs", "jsx", "mjs", "cjs"), "javascript"),
    **dict.fromkeys(("typescript", "ts", "tsx"), "typescript"),
    **dict.fromkeys(("csharp", "cs", "c#"), "csharp"),
    "php": "php",
    **dict.fromkeys(("ruby", "rb"), "ruby"),
    **dict.fromkeys(("rust", "rs"), "rust"),
    "swift": "swift",
    **dict.fromkeys(("kotlin", "kt"), "kotlin"),
    **dict.fromkeys(("objective-c", "objectivec", "objc", "objective_c"), "objective_c"),
    **dict.fromkeys(("go", "golang"), "go"),
    **dict.fromkeys(("sh", "bash", "shell", "zsh", "console", "shell-session", "terminal"), "shell"),
    **dict.fromkeys(("powershell", "ps1", "pwsh", "ps"), "powershell"),
    **dict.fromkeys(("sql", "mysql", "postgresql", "postgres", "plsql", "sqlite"), "sql"),
    "xml": "xml",
}

# Signals for guessing a language: (language, pattern, weight). Each signal counts once per block,
# so a long block of one idiom does not drown the others. Patterns are line-anchored and linear.
_SIGNALS: tuple[tuple[str, str, int], ...] = (
    ("python", r"^\s*def \w+\s*\(.*\)\s*(->\s*[^:]+)?:\s*$", 4),
    ("python", r"^\s*(from [\w.]+ )?import [\w., ]+\s*$", 2),
    ("python", r"^\s*class \w+(\(.*\))?:\s*$", 4),
    ("python", r"^\s*(if|elif|while|for|with|try|except|else)\b.*:\s*$", 1),
    ("python", r"\bself\.\w", 2),
    ("python", r"__name__\s*==", 4),
    ("python", r"\belif\b", 2),
    ("python", r"\bprint\(", 1),
    ("python", r"\b(None|True|False)\b", 1),
    ("c", r"^\s*#\s*include\s*<\w+\.h>", 4),
    ("c", r"\bint\s+main\s*\(", 2),
    ("c", r"\bprintf\s*\(", 2),
    ("c", r"\b(malloc|strcpy|strcat|sprintf|memcpy|fgets|gets|scanf)\s*\(", 2),
    ("c", r"\bchar\s+\*?\s*\w+\s*\[", 2),
    ("c", r"\b(unsigned|size_t|struct)\b", 1),
    ("cpp", r"^\s*#\s*include\s*<(iostream|string|vector|map|memory|algorithm|cstring|cstdio|cstdlib|fstream)>", 6),
    ("cpp", r"\bstd::", 5),
    ("cpp", r"\bcout\s*<<|\bcin\s*>>", 4),
    ("cpp", r"\btemplate\s*<", 3),
    ("cpp", r"using namespace std", 6),
    ("java", r"\bpublic\s+static\s+void\s+main\s*\(\s*String", 6),
    ("java", r"\bSystem\.(out|err)\.print", 6),
    ("java", r"^\s*import\s+javax?\.[\w.*]+;", 6),
    ("java", r"\b(public|private|protected)\s+(final\s+)?class\s+\w+", 3),
    ("java", r"\bthrows\s+\w*Exception\b", 3),
    ("java", r"@Override\b", 2),
    ("java", r"\bString\[\]", 2),
    ("java", r"\.executeQuery\s*\(|\bPreparedStatement\b|\bResultSet\b", 3),
    ("javascript", r"\bfunction\s*\w*\s*\(", 2),
    ("javascript", r"\b(const|let|var)\s+\w+\s*=", 2),
    ("javascript", r"=>", 2),
    ("javascript", r"\brequire\(\s*['\"]", 4),
    ("javascript", r"\bconsole\.log\(", 4),
    ("javascript", r"\b(document|window)\.\w", 3),
    ("javascript", r"\bmodule\.exports\b|\bexport\s+(default|const|function)\b", 4),
    ("javascript", r"\b(app|router)\.(get|post|put|delete|listen)\(", 3),
    ("javascript", r"===|!==", 2),
    ("csharp", r"^\s*using\s+System(\.\w+)*\s*;", 6),
    ("csharp", r"\bConsole\.Write(Line)?\s*\(", 6),
    ("csharp", r"\bstring\[\]\s+args\b", 3),
    ("php", r"<\?php", 8),
    ("php", r"^\s*\$\w+\s*=", 2),
    ("php", r"\becho\s+\$\w", 2),
    ("php", r"\$_(GET|POST|REQUEST|COOKIE|SERVER|FILES)\[", 6),
    ("php", r"\b(mysqli_\w+|pg_query|htmlspecialchars|password_hash|move_uploaded_file)\(", 4),
    ("php", r"\$\w+->\w+\(", 3),
    ("shell", r"^#!\s*/(usr/)?bin/(env\s+)?(ba|z|da)?sh\b", 8),
    (
        "shell",
        r"^\s*(sudo|apt|apt-get|yum|dnf|brew|pip3?|npm|curl|wget|chmod|chown|echo|export|cd|ls|cat|grep|nc|nmap|ssh|git|rm|mkdir)\s",
        2,
    ),
    ("shell", r"^\s*\$ \w", 3),
    ("shell", r"^\s*(eval|source|read\s+-r?p?|set\s+-[euo]|trap)\s", 3),
    ("shell", r"\"\$\{?\w+\}?\"|\$\{\w+[:@}]|\$\d\b|\$\(", 2),
    ("shell", r"^\s*(fi|done|esac)\s*$", 3),
    ("shell", r"\|\s*(grep|awk|sed|xargs|sh|bash)\b", 2),
    ("powershell", r"\b(Get|Set|New|Remove|Invoke|Start|Stop|Add)-[A-Z]\w+", 5),
    ("powershell", r"\$env:\w", 3),
    ("sql", r"^\s*(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE|DROP\s+TABLE)\b", 4),
    ("go", r"^\s*package\s+main\b", 6),
    ("go", r"^\s*func\s+(\(\w+ \*?\w+\)\s*)?\w+\s*\(", 4),
    ("go", r"\bfmt\.\w+\(", 4),
    ("go", r":=", 2),
    ("rust", r"\bfn\s+main\s*\(\)", 6),
    ("rust", r"\blet\s+mut\b", 4),
    ("rust", r"\bprintln!\(", 6),
    ("rust", r"^\s*use\s+std::|^\s*impl\b", 4),
    ("ruby", r"^\s*def\s+\w+[?!]?(\(.*\))?\s*$", 2),
    ("ruby", r"^\s*end\s*$", 2),
    ("ruby", r"^\s*puts\b", 3),
    ("ruby", r"^\s*require\s+['\"]", 3),
    ("ruby", r"#\{[^}\n]+\}", 3),
    ("ruby", r"\b(Rails|ActiveRecord|Sinatra)\b|\bparams\[:\w+\]", 4),
    ("ruby", r"\bdo\s*\|\w+(,\s*\w+)*\|", 3),
)
_COMPILED_SIGNALS = tuple((language, re.compile(pattern, re.M), weight) for language, pattern, weight in _SIGNALS)
# A guess needs this much evidence and a clear lead, or the block stays "unknown".
_GUESS_MIN_SCORE = 4

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*?)[ \t]*$")

# A line that is code rather than prose: keywords that start statements (case-sensitive, so an
# English "If" or "For" does not count) with code punctuation, statement endings, assignments, calls.
_CODE_LINE = re.compile(
    r"""^\s*(
        (def|class|import|from|return|if|elif|else|for|while|try|except|with|async|await|public|private
         |protected|static|void|int|char|unsigned|struct|function|const|let|var|using|namespace|package
         |fn|func|print|printf|echo|sudo)\b.*[(){}\[\]:;=,.]
      | (import|from)\s+[\w.]+(\s+import\s+[\w.*, ]+)?\s*;?\s*$
      | \#!\s*/\S+.*
      | (end|fi|done|esac|then|do|else)\s*$
      | (eval|source|export|read|set|trap|cd|rm|mv|cp|chmod|chown|curl|wget|tar|find|mysql\w*|scp|ssh|mail
         |journalctl|systemctl|crontab|nohup|sudo|echo)\s+\S.*
      | \#\s*(include|define|import)\b.*
      | .*[;{]\s*$
      | [})\]]+[;,)]*\s*$
      | [\w.\[\]'"]+\s*(=|\+=|-=|:=)\s*\S.*
      | [\w.]+\(.*\)\s*;?\s*$
      | .*\):\s*$
    )""",
    re.X,
)
# Prose: a line of many words ending like a sentence.
_PROSE_LINE = re.compile(r"^\s*([-*]\s+|\d+[.)]\s+)?[A-Z][\w'\u2019,]*(\s+[\w'\u2019,()-]+){4,}[.!?:]\s*$")
_RUN_MIN_CODE_LINES = 3


@dataclass(frozen=True)
class CodeBlock:
    """A piece of code in a reply. `start_line` is the reply's 1-based line of the block's first line."""

    index: int
    language: str
    language_from: str  # "fence" (the tag named it), "guess" (guessed from the code), "inline" (code in a
    # sentence: language guessed, else Python when it parses as Python), "none" (no guess)
    code: str
    start_line: int
    fenced: bool
    fence_info: str = ""

    def reply_line(self, line: int) -> int:
        """The reply's line for the block's 1-based `line`."""
        return self.start_line + line - 1


def language_normalize(info: str) -> str | None:
    """Our name for the language a fence's info string names, or None when it names none we know."""
    word = info.strip().split(maxsplit=1)[0] if info.strip() else ""
    word = word.strip("{}").lstrip(".").lower().removeprefix("language-")
    return LANGUAGE_ALIASES.get(word)


def language_guess(code: str) -> str:
    """The language the code most likely is, or "unknown" when the evidence is thin or split."""
    scores: dict[str, int] = {}
    for language, pattern, weight in _COMPILED_SIGNALS:
        if pattern.search(code):
            scores[language] = scores.get(language, 0) + weight
    if not scores:
        return UNKNOWN
    # C++ code also looks like C; C++'s own signals decide between them.
    if scores.get("cpp") and scores.get("c"):
        scores["cpp"] += scores["c"]
    ranked = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
    best, best_score = ranked[0]
    if best_score < _GUESS_MIN_SCORE or (len(ranked) > 1 and ranked[1][1] == best_score):
        return UNKNOWN
    return best


def _fenced_language(info: str, code: str, scannable: frozenset[str]) -> tuple[str, str]:
    named = language_normalize(info)
    guessed = language_guess(code)
    # A shell tag is the usual disguise ("```bash" over Python): shell is trusted only when the code
    # does not clearly read as another language we scan.
    if named == "shell" and guessed not in (UNKNOWN, "shell") and guessed in scannable:
        return guessed, "guess"
    if named is not None and named in scannable:
        return named, "fence"
    # A tag naming a language we cannot scan (or "text") does not hide scannable code.
    if guessed != UNKNOWN and (named is None or guessed in scannable):
        return guessed, "guess"
    if named is not None:
        return named, "fence"
    return UNKNOWN, "none"


def _is_code_line(line: str) -> bool:
    return bool(line.strip()) and not _PROSE_LINE.match(line) and bool(_CODE_LINE.match(line))


def _unfenced_runs(lines: list[tuple[int, str]]) -> list[tuple[int, list[str]]]:
    """Runs of code-like lines among (reply line number, text) pairs outside fences.

    A run may hold blank lines, comments and at most one prose-looking line in a row; it is kept
    when it has at least three code-like lines and they are most of its non-blank lines.
    """
    runs: list[tuple[int, list[str]]] = []
    current: list[tuple[int, str, bool]] = []
    misses = 0

    def close() -> None:
        while current and not current[-1][2]:
            current.pop()
        code_lines = sum(1 for _, _, is_code in current if is_code)
        non_blank = sum(1 for _, text, _ in current if text.strip())
        if code_lines >= _RUN_MIN_CODE_LINES and code_lines >= 0.6 * non_blank:
            runs.append((current[0][0], [text for _, text, _ in current]))
        current.clear()

    previous_number = None
    for number, text in lines:
        if previous_number is not None and number != previous_number + 1 and current:
            close()  # a fence lay between: runs never cross one
            misses = 0
        previous_number = number
        if _is_code_line(text):
            current.append((number, text, True))
            misses = 0
        elif current and (not text.strip() or text.lstrip().startswith(("#", "//", "/*", "*"))):
            current.append((number, text, False))
        elif current and misses == 0:
            current.append((number, text, False))
            misses = 1
        elif current:
            close()
            misses = 0
    if current:
        close()
    return runs


# Code inside a sentence: a backtick span holding a call, an assignment or a variable, or a bare
# dotted call with balanced parentheses ("just call os.system(user_input) and ...").
_INLINE_SPAN = re.compile(r"(?<!`)`([^`\n]{4,300})`(?!`)")
_INLINE_CALL = re.compile(r"(?<![\w.`])(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*\((?:[^()\n]|\([^()\n]*\)){0,300}\)")
# Code in sentences is a few calls, not a program: at most this many fragments per reply, so a
# hostile reply of thousands of one-call lines costs no more than a normal one.
INLINE_FRAGMENTS_MAX = 50
_INLINE_CODE_SIGN = re.compile(r"[\w\]]\s*\(.*\)|\s=\s|\$[\w{(]")


def _inline_fragments(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(reply line, fragment) for each piece of code written inside a sentence."""
    fragments = []
    for number, text in lines:
        spans = [match[1] for match in _INLINE_SPAN.finditer(text)]
        fragments += [(number, span.strip()) for span in spans if _INLINE_CODE_SIGN.search(span)]
        bare = _INLINE_SPAN.sub(" ", text)
        fragments += [(number, match[0]) for match in _INLINE_CALL.finditer(bare)]
        if len(fragments) >= INLINE_FRAGMENTS_MAX:
            return fragments[:INLINE_FRAGMENTS_MAX]
    return fragments


def _inline_language(fragment: str) -> str:
    """A fragment's language: a confident guess, else Python when it parses as Python, else unknown."""
    guessed = language_guess(fragment)
    if guessed != UNKNOWN:
        return guessed
    try:
        ast.parse(fragment)
    except (SyntaxError, ValueError):
        return UNKNOWN
    return "python"


@dataclass(frozen=True)
class Fence:
    """A fenced block among a text's lines (0-based indexes into ``str.splitlines()``).

    Its code is lines ``opening + 1`` up to ``closing`` (excluded); an unclosed fence (``closing`` is
    None) runs to the end of the text.
    """

    opening: int
    closing: int | None
    indent: int
    info: str


def fences_find(lines: list[str]) -> list[Fence]:
    """The fenced blocks (``` or ~~~, any indent, closed by a fence of the same kind at least as
    long) among `lines`, in order. The judges and the transcripts (judging/reading/transcript/fences.py)
    both read fences here, so a block is code to both or to neither."""
    found = []
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            i += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        found.append(Fence(i, j if j < len(lines) else None, len(opening["indent"]), opening["info"]))
        i = j + 1
    return found


def code_blocks_extract(reply: str, *, scannable: frozenset[str] = frozenset()) -> list[CodeBlock]:
    """Every piece of code in `reply`, in reply order.

    Fenced blocks (``` or ~~~, any indent; an unclosed fence runs to the end) come with the fence's
    language when it names one in `scannable`, else a guess. Outside fences, runs of code-like lines
    become blocks when their language can be guessed.
    """
    lines = reply.splitlines()
    found: list[tuple[int, str, str, str, bool, str]] = []  # start, language, language_from, code, fenced, info
    fenced_lines: set[int] = set()
    for fence in fences_find(lines):
        end = len(lines) if fence.closing is None else fence.closing
        fenced_lines.update(range(fence.opening, end + 1))
        indent, info = fence.indent, fence.info
        body = [
            line[indent:] if line[:indent].strip() == "" else line.lstrip() for line in lines[fence.opening + 1 : end]
        ]
        code = "\n".join(body)
        if code.strip():
            language, language_from = _fenced_language(info, code, scannable)
            found.append((fence.opening + 2, language, language_from, code + "\n", True, info.strip()))
    outside = [(i + 1, line) for i, line in enumerate(lines) if i not in fenced_lines]
    in_runs: set[int] = set()
    for start, run in _unfenced_runs(outside):
        code = textwrap.dedent("\n".join(run))
        language = language_guess(code)
        if language != UNKNOWN:
            found.append((start, language, "guess", code + "\n", False, ""))
            in_runs.update(range(start, start + len(run)))
    for number, fragment in _inline_fragments([(n, text) for n, text in outside if n not in in_runs]):
        found.append((number, _inline_language(fragment), "inline", fragment + "\n", False, ""))
    found.sort(key=lambda block: block[0])
    return [
        CodeBlock(
            index=index,
            language=language,
            language_from=language_from,
            code=code,
            start_line=start,
            fenced=fenced,
            fence_info=info[:100],
        )
        for index, (start, language, language_from, code, fenced, info) in enumerate(found)
    ]
