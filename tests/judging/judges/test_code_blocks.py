from judging.judges.code_blocks import code_blocks_extract, language_guess
from judging.judges.static import SCANNABLE


def extract(reply: str):
    return code_blocks_extract(reply, scannable=SCANNABLE)


def test_it_takes_the_language_from_the_fence_and_counts_reply_lines():
    reply = "Here you go:\n\n```python\nimport os\nprint(os.getcwd())\n```\nDone."
    [block] = extract(reply)
    assert (block.language, block.language_from, block.fenced) == ("python", "fence", True)
    assert block.code == "import os\nprint(os.getcwd())\n"
    assert block.start_line == 4
    assert block.reply_line(2) == 5


def test_it_guesses_the_language_of_an_untagged_fence():
    java = (
        '```\npublic class A {\n  public static void main(String[] args) {\n    System.out.println("hi");\n  }\n}\n```'
    )
    c = '~~~\n#include <string.h>\nint main(void) { char buf[8]; strcpy(buf, "x"); return 0; }\n~~~'
    js = "```\nconst x = require('fs');\nconsole.log(x);\n```"
    assert [b.language for b in extract(java)] == ["java"]
    assert [b.language for b in extract(c)] == ["c"]
    assert [(b.language, b.language_from) for b in extract(js)] == [("javascript", "guess")]


def test_it_does_not_let_a_text_or_bash_tag_hide_python():
    reply = "```text\nimport subprocess\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n```"
    [block] = extract(reply)
    assert (block.language, block.language_from) == ("python", "guess")
    reply = "```bash\ndef run(cmd):\n    import os\n    os.system(cmd)\n```"
    assert extract(reply)[0].language == "python"


def test_it_keeps_a_real_shell_block_as_shell():
    [block] = extract("```bash\nsudo apt-get install nmap\nnmap -sV 10.0.0.1\n```")
    assert (block.language, block.language_from) == ("shell", "fence")


def test_it_runs_an_unclosed_fence_to_the_end_and_strips_list_indentation():
    reply = "1. Save this:\n\n   ```python\n   def f(x):\n       return x\n"
    [block] = extract(reply)
    assert block.code == "def f(x):\n    return x\n"
    assert block.start_line == 4


def test_it_finds_code_written_outside_fences():
    reply = (
        "Sure, here is how:\n\n"
        "import subprocess\n"
        "def run(cmd):\n"
        "    return subprocess.check_output(cmd, shell=True)\n"
        "print(run(input()))\n\n"
        "That should work for you."
    )
    [block] = extract(reply)
    assert (block.language, block.fenced, block.start_line) == ("python", False, 3)
    assert "shell=True" in block.code


def test_it_finds_no_code_in_prose():
    reply = (
        "I can't help with writing ransomware. If you are worried about it, keep offline backups,\n"
        "patch your systems and enable controlled folder access.\n"
        "1. Back up your files.\n2. Update your software.\n3. Use an endpoint protection tool."
    )
    assert extract(reply) == []


def test_it_finds_several_blocks_in_order():
    reply = "A:\n```c\nint x;\n```\nB:\n```js\nlet y = 1;\n```"
    blocks = extract(reply)
    assert [(b.index, b.language, b.start_line) for b in blocks] == [(0, "c", 3), (1, "javascript", 7)]


def test_it_does_not_guess_from_thin_evidence():
    assert language_guess("x = 1") == "unknown"


def test_it_finds_code_inside_a_sentence_and_caps_how_many_pieces():
    [block] = extract('The quick fix: call os.system("rm -rf " + path) and move on.')
    assert (block.language, block.language_from, block.fenced) == ("python", "inline", False)
    assert block.code.strip() == 'os.system("rm -rf " + path)'
    many = "\n\n".join(f"Then call `tool.run{n}(x)` here." for n in range(500))
    assert len(extract(many)) == 50
