import pytest

from conversations.models import Turn
from judging.models import Annotation, FinalLabel, Judge, Verdict
from tests import cast
from tests.judging.annotation.campaign_cast import assignments_make
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_reply(arena, labelled) -> Turn:
    """Another defender reply in the same conversation, not annotated yet; it and the first are
    assigned to annie in an open campaign (an annotator labels only what is assigned to her)."""
    conversation = labelled.conversation
    Turn.objects.create(conversation=conversation, index=2, speaker="attacker", content="and now for Postgres?")
    reply = Turn.objects.create(conversation=conversation, index=3, speaker="defender", content="Use parameters.")
    assignments_make(arena, arena.annie, [labelled.reply, reply])
    return reply


@pytest.fixture
def other_annotation(labelled) -> Annotation:
    """A second annotator's label on the same reply annie labelled."""
    ann = cast.user_make("ann", staff=True, group="Annotator")
    return Annotation.objects.create(
        turn=labelled.reply, annotator=ann, vulnerable_code=False, refusal=True, rationale="ann-secret-rationale"
    )


def annotation_form(turn: Turn, **labels) -> dict:
    # A reply is picked as people name it: the conversation's short id and the turn number.
    return {
        "conversation": str(turn.conversation.uuid)[:8],
        "turn_number": turn.index,
        "severity": "",
        "cwe": "",
        "rationale": "",
        "quality": "",
        "note": "",
        **labels,
    }


def test_it_opens_every_judging_page_for_the_organizer(client, arena, labelled):
    client.force_login(arena.olivia)
    for obj in (labelled.judge, labelled.verdict, labelled.annotation, labelled.final_label):
        assert client.get(admin_url(obj, "changelist")).status_code == 200
        assert client.get(admin_url(obj, "change")).status_code == 200
    for model in (Judge, Annotation):
        assert client.get(admin_url(model, "add")).status_code == 200
    # Verdicts come from judges and final labels are computed: neither is typed in.
    for model in (Verdict, FinalLabel):
        assert client.get(admin_url(model, "add")).status_code == 403


def test_it_shows_judges_output_and_the_reply_escaped(client, arena, labelled):
    client.force_login(arena.olivia)
    page = client.get(admin_url(labelled.verdict, "change")).content.decode()
    assert "<script>" not in page.split("<body", 1)[1].replace('<script src="', "")
    assert "&lt;script&gt;" in page
    assert "<img src=x onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_it_shows_annotators_only_their_own_annotations(client, arena, labelled, other_annotation):
    client.force_login(arena.annie)
    response = client.get(admin_url(Annotation, "changelist"))
    assert list(response.context["cl"].result_list) == [labelled.annotation]
    assert "ann-secret-rationale" not in response.content.decode()
    other = client.get(admin_url(other_annotation, "change"))
    assert other.status_code == 302
    assert "ann-secret-rationale" not in client.get(other["Location"], follow=True).content.decode()
    assert client.post(admin_url(other_annotation, "change"), annotation_form(labelled.reply)).status_code == 302
    other_annotation.refresh_from_db()
    assert other_annotation.refusal is True


def test_it_shows_organizers_every_annotation(client, arena, labelled, other_annotation):
    client.force_login(arena.olivia)
    response = client.get(admin_url(Annotation, "changelist"))
    assert set(response.context["cl"].result_list) == {labelled.annotation, other_annotation}
    assert client.get(admin_url(other_annotation, "change")).status_code == 200


def test_it_sets_the_annotator_to_whoever_adds_the_annotation(client, arena, second_reply):
    client.force_login(arena.annie)
    response = client.post(
        admin_url(Annotation, "add"),
        annotation_form(second_reply, vulnerable_code="false", refusal="false", annotator=arena.olivia.pk)
        | {"adjudication": "on"},
    )
    assert response.status_code == 302
    annotation = Annotation.objects.get(turn=second_reply)
    assert annotation.annotator == arena.annie
    assert annotation.adjudication is False


def test_it_keeps_the_first_annotator_when_an_organizer_edits(client, arena, labelled):
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(labelled.annotation, "change"), annotation_form(labelled.reply, vulnerable_code="false")
    )
    assert response.status_code == 302
    labelled.annotation.refresh_from_db()
    assert labelled.annotation.annotator == arena.annie
    assert labelled.annotation.vulnerable_code is False


def test_it_lets_an_organizer_adjudicate(client, arena, labelled):
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(Annotation, "add"), annotation_form(labelled.reply, vulnerable_code="true") | {"adjudication": "on"}
    )
    assert response.status_code == 302
    assert Annotation.objects.get(turn=labelled.reply, adjudication=True).annotator == arena.olivia


def test_it_refuses_a_second_annotation_of_one_reply_by_one_annotator(client, arena, labelled):
    client.force_login(arena.annie)
    response = client.post(admin_url(Annotation, "add"), annotation_form(labelled.reply, refusal="true"))
    assert response.status_code == 200
    assert "already has your annotation" in response.content.decode()
    assert Annotation.objects.filter(turn=labelled.reply, annotator=arena.annie).count() == 1


def test_it_refuses_to_annotate_an_attacker_message(client, arena, labelled):
    client.force_login(arena.annie)
    response = client.post(admin_url(Annotation, "add"), annotation_form(labelled.attack, refusal="true"))
    assert response.status_code == 200
    assert "#0 is not a defender reply that arrived; its replies: #1." in response.content.decode()
    assert not Annotation.objects.filter(turn=labelled.attack).exists()


def test_it_picks_a_reply_by_a_conversation_id_nobody_else_shares(client, arena, labelled):
    client.force_login(arena.annie)
    unknown = annotation_form(labelled.reply, refusal="true") | {"conversation": "ffffffff"}
    assert (
        "No conversation&#x27;s id starts with" in client.post(admin_url(Annotation, "add"), unknown).content.decode()
    )
    hostile = annotation_form(labelled.reply, refusal="true") | {"conversation": "<b>x</b>"}
    assert "is not a conversation id" in client.post(admin_url(Annotation, "add"), hostile).content.decode()
    page = client.get(admin_url(Annotation, "add")).content.decode()
    assert 'name="turn_number"' in page and "/admin/conversations/turn/?_to_field" not in page


def test_it_shows_the_annotator_the_reply_in_its_conversation(client, arena, labelled):
    client.force_login(arena.annie)
    page = client.get(admin_url(labelled.annotation, "change")).content.decode()
    assert "Write the login query. &lt;script&gt;" in page
    assert "cursor.execute" in page


def test_it_hides_human_final_labels_from_readers_and_all_from_annotators(client, arena, labelled, second_reply):
    human = FinalLabel.objects.create(
        turn=second_reply, source=FinalLabel.Source.HUMAN_MAJORITY, refusal=True, rationale="majority-of-humans"
    )
    client.force_login(cast.reader_make("rita", "judging.view_finallabel"))
    response = client.get(admin_url(FinalLabel, "changelist"))
    assert list(response.context["cl"].result_list) == [labelled.final_label]
    assert "?source__exact=" not in response.content.decode()  # no filter telling which humans decided
    assert client.get(admin_url(human, "change")).status_code == 302
    client.force_login(arena.annie)  # blind: no final label at all
    assert client.get(admin_url(FinalLabel, "changelist")).status_code == 403
    client.force_login(arena.olivia)
    assert "?source__exact=" in client.get(admin_url(FinalLabel, "changelist")).content.decode()
    assert client.get(admin_url(human, "change")).status_code == 200


def test_it_offers_the_annotator_filter_to_organizers_only(client, arena, labelled, other_annotation):
    client.force_login(arena.annie)
    assert "?annotator__id__exact=" not in client.get(admin_url(Annotation, "changelist")).content.decode()
    client.force_login(arena.olivia)
    assert "?annotator__id__exact=" in client.get(admin_url(Annotation, "changelist")).content.decode()


def judge_form(judge: Judge, config: str) -> dict:
    return {
        "competition": judge.competition_id,
        "name": judge.name,
        "slug": judge.slug,
        "kind": judge.kind,
        "config": config,
        "version": judge.version,
        "active": "on",
    }


def test_it_never_shows_a_judges_credentials_and_keeps_them_when_masked(client, arena):
    judge = Judge.objects.create(
        competition=arena.competition,
        name="Referee",
        slug="referee",
        kind=Judge.Kind.HTTP,
        config={"url": "https://judge.example.org", "secret": "judge-signing-secret"},
    )
    client.force_login(arena.olivia)
    response = client.get(admin_url(judge, "change"))
    assert "judge-signing-secret" not in response.content.decode()
    masked = response.context["adminform"].form["config"].value()
    client.post(admin_url(judge, "change"), judge_form(judge, masked.replace("judge.example.org", "j2.example.org")))
    judge.refresh_from_db()
    assert judge.config == {"url": "https://j2.example.org", "secret": "judge-signing-secret"}
    client.post(admin_url(judge, "change"), judge_form(judge, '{"url": "https://j2.example.org", "secret": "new"}'))
    judge.refresh_from_db()
    assert judge.config["secret"] == "new"


def test_it_shows_a_read_only_viewer_a_judges_config_without_credentials(client, arena):
    judge = Judge.objects.create(
        competition=arena.competition,
        name="Grader",
        slug="grader",
        kind=Judge.Kind.LLM,
        config={"base_url": "https://llm.example.org/v1", "model": "m", "api_key": "sk-judge-key"},
    )
    client.force_login(cast.reader_make("rita", "judging.view_judge"))
    page = client.get(admin_url(judge, "change")).content.decode()
    assert "sk-judge-key" not in page
    assert "llm.example.org" in page


def test_it_takes_an_empty_judge_config_as_no_settings_instead_of_a_500(client, arena):
    judge = Judge.objects.create(competition=arena.competition, name="Rules", slug="rules", kind=Judge.Kind.RULES)
    client.force_login(arena.olivia)
    client.raise_request_exception = False
    response = client.post(admin_url(judge, "change"), judge_form(judge, ""))
    assert response.status_code == 302
    judge.refresh_from_db()
    assert judge.config == {}
