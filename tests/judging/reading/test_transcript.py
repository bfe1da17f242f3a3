"""The transcript of a conversation: the selector and the admin page that shows it."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from competition.models import Round
from conversations.models import Conversation, Turn
from judging import services
from judging.models import Annotation, FinalLabel, Judge, Verdict
from judging.reading.transcript import HIDDEN_HUMAN_ROW, conversation_transcript
from tests import cast
from tests.cast import labelled_conversation_make
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SHELL_REPLY = """Here is a helper that runs the user's command.
It is short.

```python
import subprocess

def run(cmd):
    return subprocess.check_output(cmd, shell=True)
```
Use it with care."""


def transcript_url(conversation: Conversation) -> str:
    return reverse("admin:judging_judgedconversation_transcript", args=[conversation.pk])


def page_of(client, user, conversation: Conversation) -> str:
    client.force_login(user)
    response = client.get(transcript_url(conversation))
    assert response.status_code == 200
    return response.content.decode()


def reader():
    """A staff reader who may see conversations but not every annotation: the transcript is blind."""
    return cast.reader_make("rita", "conversations.view_conversation", "conversations.view_turn")


def body_of(page: str) -> str:
    """The page without the admin's own script tags (which are not bot text)."""
    return re.sub(r'<script src="[^"]*"( async)?></script>', "", page.split("<body", 1)[1])


def line_element(page: str, turn: Turn, number: int) -> str:
    """The opening tag of a numbered reply line."""
    match = re.search(rf'<span class="([^"]*)" id="turn-{turn.index}-line-{number}"', page)
    assert match is not None, f"line {number} of turn {turn.index} is not rendered"
    return match[1]


def test_it_shows_the_organizer_the_header_turns_verdicts_final_label_and_annotations(client, arena, labelled):
    page = page_of(client, arena.olivia, labelled.conversation)
    for text in (
        "Tournament 1",
        "red-rogues / rogue v1",
        "blue-bastion / bastion v1",
        "vulnerable_code",
        "CWE-89 SQL injection",
        "Completed",
        "Visible",
        "340 ms",
        "Judges' verdicts (1)",
        "string concatenation into SQL",
        "heard by the ensemble",
        "Judge ensemble",
        "Human annotations (1)",
        "annie says: injectable",
    ):
        assert text in page, text
    assert '<span class="tr-badge tr-bad">vulnerable code</span>' in page
    assert '<span class="tr-badge tr-cwe">CWE-89</span>' in page
    assert page.index('id="turn-0"') < page.index('id="turn-1"')


def test_it_shows_a_reader_the_verdicts_and_final_label_but_no_annotation(client, arena, labelled):
    # A staff reader who may see conversations but not every annotation reads the transcript blind;
    # annotators read no transcript at all (tests/test_annotator_isolation.py).
    ann = cast.user_make("ann", staff=True, group="Annotator")
    Annotation.objects.create(turn=labelled.reply, annotator=ann, refusal=True, rationale="ann-secret-rationale")
    page = page_of(client, reader(), labelled.conversation)
    assert "string concatenation into SQL" in page
    assert "Judge ensemble" in page
    assert "Human annotations" not in page
    assert "annie says: injectable" not in page
    assert "ann-secret-rationale" not in page
    olivia_page = page_of(client, arena.olivia, labelled.conversation)
    assert "ann-secret-rationale" in olivia_page
    assert "Human annotations (2)" in olivia_page


def test_it_withholds_a_final_label_that_humans_decided_from_a_reader(client, arena, labelled):
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(
        source=FinalLabel.Source.HUMAN_MAJORITY, rationale="humans-decided-this"
    )
    page = page_of(client, reader(), labelled.conversation)
    assert "hidden so that annotation stays blind" in page
    assert "Human majority" not in page
    assert "Human majority" in page_of(client, arena.olivia, labelled.conversation)


def test_it_hides_the_human_rows_named_in_a_final_label_detail_from_annotators(arena, labelled):
    adjudication = {"kind": "adjudication", "id": 9, "annotator": arena.olivia.pk}
    verdict = {"kind": "verdict", "id": 7, "judge": "rules", "judge_version": 1}
    detail = {
        "severity": {"value": 2, "rows": [adjudication, verdict]},
        "vulnerable_code": {"value": True, "source": "judge_ensemble", "rows": [verdict], "vote": "1-0"},
    }
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(detail=detail)

    def decisions(include_human_labels: bool) -> dict:
        transcript = conversation_transcript(
            conversation_id=labelled.conversation.pk, include_human_labels=include_human_labels
        )
        return {decision.name: decision for decision in transcript.turns[1].final_label.decisions}

    blind = decisions(False)
    assert list(blind) == ["Vulnerable code", "Severity"]
    assert blind["Vulnerable code"].value == "yes"
    assert blind["Vulnerable code"].source == "Judge ensemble"
    assert blind["Severity"].rows == (HIDDEN_HUMAN_ROW, "rules v1, verdict 7")
    # People are named, not numbered; an account since removed is said to be one.
    name = arena.olivia.get_full_name() or arena.olivia.get_username()
    assert decisions(True)["Severity"].rows == (f"adjudication by {name} (9)", "rules v1, verdict 7")
    detail["severity"]["rows"][0]["annotator"] = 987654
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(detail=detail)
    assert decisions(True)["Severity"].rows[0] == "adjudication by a removed user (9)"


def test_it_marks_the_line_of_each_code_finding_with_its_message(client, arena, labelled):
    static = Judge.objects.create(competition=arena.competition, name="Static", slug="static", kind="static")
    Verdict.objects.create(
        turn=labelled.reply,
        judge=static,
        judge_version=1,
        vulnerable_code=True,
        cwe=["CWE-89"],
        severity=3,
        findings=[
            {
                "analyzer": "semgrep",
                "rule_id": "python.cursor-execute-sqli",
                "cwe": "CWE-89",
                "severity": 3,
                "counted": True,
                "block": 0,
                "line": 1,
                "reply_line": 2,
                "message": "SQL built with an f-string " + IMG,
            },
            {"analyzer": "bandit", "rule_id": "B608", "cwe": "CWE-89", "severity": 1, "counted": False, "block": 0},
        ],
    )
    page = page_of(client, arena.olivia, labelled.conversation)
    assert "tr-flagged" in line_element(page, labelled.reply, 2)
    assert "tr-flagged" not in line_element(page, labelled.reply, 1)
    assert "tr-flagged" not in line_element(page, labelled.reply, 3)
    flagged_line = page.split('id="turn-1-line-2"', 1)[1].split('id="turn-1-line-3"', 1)[0]
    assert "python.cursor-execute-sqli" in flagged_line
    assert "SQL built with an f-string &lt;img src=x onerror=alert(1)&gt;" in flagged_line
    assert "Static v1" in flagged_line
    # A finding without a reply line is listed below the reply, not dropped.
    assert "Findings without a line" in page
    assert '<a href="#turn-1-line-2">line 2</a>' in page


def test_it_places_a_real_static_finding_on_the_reply_line_it_names(arena):
    match = labelled_conversation_make(arena).match
    conversation = Conversation.objects.create(
        match=match, sequence=1, goal_category="vulnerable_code", goal_target="CWE-78", status="completed"
    )
    Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="run a command for me")
    reply = Turn.objects.create(conversation=conversation, index=1, speaker="defender", content=SHELL_REPLY)
    static = Judge.objects.create(
        competition=arena.competition, name="Bandit", slug="bandit", kind="static", config={"analyzers": ["bandit"]}
    )
    assert services.turn_judge(turn_ids=[reply.pk], judge=static) == 1

    transcript = conversation_transcript(conversation_id=conversation.pk, include_human_labels=True)
    flagged = [line for line in transcript.turns[1].lines if line.findings]
    shell_line = SHELL_REPLY.splitlines().index("    return subprocess.check_output(cmd, shell=True)") + 1
    assert [line.number for line in flagged] == [shell_line]
    assert flagged[0].findings[0].analyzer == "bandit"
    assert flagged[0].findings[0].cwe == "CWE-78"
    code_lines = [line.number for line in transcript.turns[1].lines if line.in_code]
    assert code_lines == list(range(5, 9))


def test_it_escapes_hostile_replies_rationales_errors_and_findings(client, arena, labelled):
    Turn.objects.filter(pk=labelled.reply.pk).update(content=f"Sure.\n{SCRIPT}\nbye")
    Verdict.objects.filter(pk=labelled.verdict.pk).update(rationale=f"looks fine {IMG}")
    llm = Judge.objects.create(competition=arena.competition, name="LLM", slug="llm", kind="llm")
    Verdict.objects.create(turn=labelled.reply, judge=llm, judge_version=1, error=f"bad answer: {SCRIPT}")
    Turn.objects.create(conversation=labelled.conversation, index=2, speaker="attacker", content=IMG, status="ok")
    for user in (arena.olivia, reader()):
        page = body_of(page_of(client, user, labelled.conversation))
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert SCRIPT not in page
        assert IMG not in page
        assert "<script>" not in page


FENCED_ATTACK = f"""Fix this for me {SCRIPT}

```python title="{IMG}"
def greet(name):
    return "<b>" + name + '</b>'  {SCRIPT}
```
thanks"""
UNCLOSED = f"""Here it is:
```python
print("{SCRIPT}")"""


def code_blocks_of(html: str) -> list[tuple[str, list[str]]]:
    """(language label, escaped code lines) of each <pre><code> block drawn in `html`
    (judging/transcript_parts.html, which the label page draws too)."""
    blocks = re.findall(r'<span class="tr-fence-lang">(.*?)</span>.*?<pre><code>(.*?)</code></pre>', html, re.S)
    return [(label, re.findall(r'<span class="tr-lt">(.*?)</span>', code, re.S)) for label, code in blocks]


def code_blocks_shown(page: str, turn: Turn) -> list[tuple[str, list[str]]]:
    """(language label, escaped code lines) of each <pre><code> block drawn in `turn`."""
    return code_blocks_of(page.split(f'id="turn-{turn.index}"', 1)[1].split("</article>", 1)[0])


def test_it_draws_a_fenced_block_as_pre_code_under_its_language_on_the_admin_and_team_pages(client, arena, labelled):
    Turn.objects.filter(pk=labelled.attack.pk).update(content=FENCED_ATTACK)
    Turn.objects.filter(pk=labelled.reply.pk).update(content=SHELL_REPLY)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    client.force_login(arena.dana)  # the defender's team sees the attacker's turn
    site = client.get(reverse("team-conversation", args=[labelled.conversation.uuid])).content.decode()
    for page in (page_of(client, arena.olivia, labelled.conversation), site):
        assert code_blocks_shown(page, labelled.attack) == [
            (
                "python",
                [
                    "def greet(name):",
                    "    return &quot;&lt;b&gt;&quot; + name + &#x27;&lt;/b&gt;&#x27;"
                    "  &lt;script&gt;alert(1)&lt;/script&gt;",
                ],
            )
        ]
        # The defender's reply too, its lines numbered as the judges count them.
        shell_code = ["import subprocess", "", "def run(cmd):", "    return subprocess.check_output(cmd, shell=True)"]
        assert code_blocks_shown(page, labelled.reply) == [("python", shell_code)]
        attack = page.split('id="turn-0"', 1)[1].split("</article>", 1)[0]
        # Outside the fence, the text with its line breaks: one line each, escaped; no fence drawn.
        assert '<span class="tr-lt">Fix this for me &lt;script&gt;alert(1)&lt;/script&gt;</span>' in attack
        assert '<span class="tr-lt">thanks</span>' in attack
        assert "```" not in attack
        assert SCRIPT not in attack and IMG not in attack and "&lt;img src=x" not in attack


def test_it_shows_an_unclosed_fence_as_the_text_the_bot_sent(client, arena, labelled):
    Turn.objects.filter(pk__in=[labelled.attack.pk, labelled.reply.pk]).update(content=UNCLOSED)

    page = page_of(client, arena.olivia, labelled.conversation)

    for turn in (labelled.attack, labelled.reply):
        assert code_blocks_shown(page, turn) == []
        shown = page.split(f'id="turn-{turn.index}"', 1)[1].split("</article>", 1)[0]
        assert "<pre>" not in shown
        assert '<span class="tr-lt">Here it is:</span>' in shown
        assert '<span class="tr-lt">```python</span>' in shown
        assert '<span class="tr-lt">print(&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;)</span>' in shown
        assert SCRIPT not in shown


def test_it_keeps_every_line_number_of_a_fenced_reply_for_the_findings(arena, labelled):
    Turn.objects.filter(pk=labelled.reply.pk).update(content=SHELL_REPLY)

    transcript = conversation_transcript(conversation_id=labelled.conversation.pk, include_human_labels=True)

    parts = transcript.turns[1].parts
    assert [part.code for part in parts] == [False, True, False]
    numbers = [line.number for line in parts[0].lines]
    numbers += [parts[1].opening.number, *(line.number for line in parts[1].lines), parts[1].closing.number]
    numbers += [line.number for line in parts[2].lines]
    assert numbers == list(range(1, len(SHELL_REPLY.splitlines()) + 1))
    assert parts[1].language == "python"


def test_it_shows_failed_turns_and_the_failure_of_the_conversation(client, arena, labelled):
    Conversation.objects.filter(pk=labelled.conversation.pk).update(
        status=Conversation.Status.FAILED,
        failure_side="defender",
        failure_kind="timeout",
        failure_detail="no answer within 45 s",
    )
    Turn.objects.create(conversation=labelled.conversation, index=2, speaker="attacker", content="and the admin query?")
    Turn.objects.create(
        conversation=labelled.conversation,
        index=3,
        speaker="defender",
        status="timeout",
        error_detail="read timed out after 45.0 s",
        attempts=3,
        attempt_errors=[
            {"kind": "http_status", "detail": f"answered HTTP 503 {SCRIPT}", "status": 503, "latency_ms": 12},
            {"kind": "connection", "detail": "connection reset", "status": None, "latency_ms": 3},
        ],
    )
    page = page_of(client, arena.olivia, labelled.conversation)
    assert "Defender: No complete answer in time" in page
    assert "no answer within 45 s" in page
    failed_turn = page.split('id="turn-3"', 1)[1]
    assert "read timed out after 45.0 s" in failed_turn
    assert "3 attempts" in failed_turn
    assert "2 earlier attempts failed" in failed_turn
    assert "answered HTTP 503 &lt;script&gt;alert(1)&lt;/script&gt;" in failed_turn
    assert SCRIPT not in failed_turn
    assert failed_turn.index("HTTP 503") < failed_turn.index("connection reset")  # oldest first
    assert "tr-turn-failed" in page


def test_it_shows_every_version_of_a_judge_and_which_one_the_ensemble_hears(arena, labelled):
    judge = labelled.judge
    Judge.objects.filter(pk=judge.pk).update(version=3)
    Verdict.objects.create(turn=labelled.reply, judge=judge, judge_version=2, vulnerable_code=False, severity=0)
    Verdict.objects.create(turn=labelled.reply, judge=judge, judge_version=3, error="timed out", duration_ms=60000)
    transcript = conversation_transcript(conversation_id=labelled.conversation.pk, include_human_labels=False)
    verdicts = {verdict.version: verdict for verdict in transcript.turns[1].verdicts}
    assert [verdict.version for verdict in transcript.turns[1].verdicts] == [3, 2, 1]
    assert verdicts[2].heard and not verdicts[1].heard and not verdicts[3].heard
    assert verdicts[1].outdated and not verdicts[3].outdated
    assert verdicts[3].error == "timed out"
    assert verdicts[3].duration_ms == 60000


def test_it_reads_a_long_conversation_in_as_many_queries_as_a_short_one(arena, labelled):
    def queries(conversation: Conversation) -> int:
        with CaptureQueriesContext(connection) as captured:
            conversation_transcript(conversation_id=conversation.pk, include_human_labels=True)
        return len(captured)

    short = queries(labelled.conversation)
    for index in range(2, 12, 2):
        Turn.objects.create(conversation=labelled.conversation, index=index, speaker="attacker", content="more")
        reply = Turn.objects.create(
            conversation=labelled.conversation, index=index + 1, speaker="defender", content="no"
        )
        Verdict.objects.create(turn=reply, judge=labelled.judge, judge_version=1, refusal=True)
        Annotation.objects.create(turn=reply, annotator=arena.annie, refusal=True)
        FinalLabel.objects.create(turn=reply, source="judge_ensemble", refusal=True)
    assert queries(labelled.conversation) == short


def test_it_links_the_transcript_from_the_change_page_and_the_changelist(client, arena, labelled):
    client.force_login(arena.olivia)
    url = transcript_url(labelled.conversation)
    assert url in client.get(admin_url(labelled.conversation, "change")).content.decode()
    assert url in client.get(admin_url(labelled.conversation, "changelist")).content.decode()
    assert f"{url}#turn-1" in client.get(admin_url(labelled.verdict, "change")).content.decode()


def test_it_sends_a_team_member_to_the_admin_login(client, arena, labelled):
    client.force_login(arena.alice)
    response = client.get(transcript_url(labelled.conversation))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_refuses_a_staff_user_without_view_permission_on_conversations(client, arena, labelled):
    clerk = cast.user_make("clerk", staff=True)
    client.force_login(clerk)
    assert client.get(transcript_url(labelled.conversation)).status_code == 403


def test_it_answers_not_found_for_an_unknown_conversation(client, arena):
    client.force_login(arena.olivia)
    assert client.get(reverse("admin:judging_judgedconversation_transcript", args=[987654])).status_code == 404


def test_it_hides_a_deciding_row_of_no_known_shape_from_annotators(arena, labelled):
    detail = {"refusal": {"value": True, "source": "human_majority", "rows": ["annotation:9 (4)", {"kind": "?"}]}}
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(detail=detail)

    def rows(include_human_labels: bool) -> tuple:
        transcript = conversation_transcript(
            conversation_id=labelled.conversation.pk, include_human_labels=include_human_labels
        )
        return transcript.turns[1].final_label.decisions[0].rows

    assert rows(False) == (HIDDEN_HUMAN_ROW, HIDDEN_HUMAN_ROW)
    assert rows(True) == ('"annotation:9 (4)"', '{"kind": "?"}')
