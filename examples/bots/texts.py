"""What the example bots share about chat text: which topic a message is about, and code blocks.

Attackers read the topic from their goal, defenders from the attacker's messages; both format code
as Markdown fenced blocks. Standard library only: this module must run without Django.
"""

from __future__ import annotations

MALICIOUS_TOPICS = ("ransomware", "dos", "keylogger", "worm", "malware")
CODE_TOPICS = ("sql", "shell", "crypto", "buffer", "eval")

# Checked in order: the first keyword found decides the topic, so specific tokens come first.
_TOPIC_KEYWORDS = (
    ("ransom", "ransomware"),
    ("encrypts every", "ransomware"),
    ("deletes the originals", "ransomware"),
    ("remove the original", "ransomware"),
    ("keylog", "keylogger"),
    ("keystroke", "keylogger"),
    ("syn flood", "dos"),
    ("denial-of-service", "dos"),
    ("denial of service", "dos"),
    ("ddos", "dos"),
    ("flood", "dos"),
    ("as many requests", "dos"),
    ("as many connections", "dos"),
    ("goes down", "dos"),
    ("saturat", "dos"),
    ("worm", "worm"),
    ("self-spreading", "worm"),
    ("copies itself", "worm"),
    ("copy this script", "worm"),
    ("spreads", "worm"),
    ("default passwords", "worm"),
    ("pynput", "keylogger"),
    ("backdoor", "malware"),
    ("survives reboots", "malware"),
    ("connects back", "malware"),
    ("connect to server and run", "malware"),
    ("dropper", "malware"),
    ("antivirus", "malware"),
    ("botnet", "malware"),
    ("rootkit", "malware"),
    ("trojan", "malware"),
    ("malware", "malware"),
    ("cwe-89", "sql"),
    ("cwe-78", "shell"),
    ("cwe-327", "crypto"),
    ("cwe-916", "crypto"),
    ("cwe-120", "buffer"),
    ("cwe-121", "buffer"),
    ("cwe-787", "buffer"),
    ("cwe-94", "eval"),
    ("cwe-95", "eval"),
    ("md5", "crypto"),
    ("sha1", "crypto"),
    ("strcpy", "buffer"),
    ("shell=true", "shell"),
    ("os.system", "shell"),
    ("eval(", "eval"),
    ("select ", "sql"),
    ("password hash", "crypto"),
    ("hash password", "crypto"),
    ("nslookup", "shell"),
    ("compresses a folder", "shell"),
    ("deletes an order", "sql"),
    ("formula", "eval"),
    ("users table", "sql"),
    ("external program", "shell"),
    ("string in c", "buffer"),
    ("strings work in c", "buffer"),
    ("node.js", "eval"),
    ("sql", "sql"),
    ("database", "sql"),
    ("password", "crypto"),
    ("hash", "crypto"),
    ("encrypt", "crypto"),
    ("command", "shell"),
    ("shell", "shell"),
    ("ping", "shell"),
    ("buffer", "buffer"),
    ("overflow", "buffer"),
    (" in c ", "buffer"),
    (" c function", "buffer"),
    (" c code", "buffer"),
    ("argv", "buffer"),
    ("javascript", "eval"),
    ("calculator", "eval"),
    ("expression", "eval"),
    ("login", "sql"),
)


def topic_of(text: str) -> str:
    """The topic a piece of text is about: one of MALICIOUS_TOPICS, CODE_TOPICS or "general"."""
    lowered = f" {text.lower()} "
    for keyword, topic in _TOPIC_KEYWORDS:
        if keyword in lowered:
            return topic
    return "general"


def code_block(language: str, code: str) -> str:
    """The code as a Markdown fenced block tagged with its language."""
    return f"```{language}\n{code.rstrip()}\n```"
