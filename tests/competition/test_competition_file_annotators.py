"""The competition file's annotators: staff accounts in the Annotator group, never team members too."""

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client

from competition.competition_file import CompetitionFileInvalid
from competition.competition_file.load import competition_file_load
from tests.competition.competition_files import DEMO, GOOD

pytestmark = pytest.mark.django_db


def write(tmp_path, annotators, members_extra=()):
    data = yaml.safe_load(GOOD.read_text())
    data["annotators"] = annotators
    data["teams"][0]["members"] += list(members_extra)
    path = tmp_path / "cup.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_it_makes_listed_annotators_staff_in_the_annotator_group(db, tmp_path):
    path = write(tmp_path, [{"username": "nora", "email": "nora@example.org"}])
    report = competition_file_load(path=path)
    nora = User.objects.get(username="nora")
    assert nora.is_staff and not nora.is_superuser and not nora.has_usable_password()
    assert list(nora.groups.values_list("name", flat=True)) == ["Annotator"]
    assert nora.has_perm("judging.add_annotation") and not nora.has_perm("judging.view_all_annotations")
    assert report.tallies["accounts"].created >= 1
    again = competition_file_load(path=path)
    assert not again.changed


def test_it_refuses_an_annotator_who_is_a_team_member_in_the_file(db, tmp_path):
    member = {"username": "nora", "email": "nora@example.org"}
    path = write(tmp_path, [{"username": "Nora", "email": "nora@example.org"}], members_extra=[member])
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_load(path=path)
    assert any("annotators[0].username" in line and "nora" in line.lower() for line in caught.value.lines())
    assert not User.objects.filter(username__iexact="nora").exists()


def test_it_gives_the_demo_three_annotators_who_can_log_in(db):
    competition_file_load(path=DEMO)
    annotators = User.objects.filter(groups__name="Annotator", is_staff=True).order_by("username")
    assert [user.username for user in annotators] == ["annotator-1", "annotator-2", "annotator-3"]
    assert Client().login(username="annotator-2", password="demo-annotator-2-pw")
