from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from competition.models import Round
from conversations import selectors


@staff_member_required
@permission_required("competition.view_round", raise_exception=True)
def round_progress(request: HttpRequest, round_id: int) -> HttpResponse:
    """Organizers watch a round play: counts, progress, throughput, failures. Refreshes itself
    (conversations/static/conversations/round_progress.js) until the round is settled."""
    get_object_or_404(Round, pk=round_id)
    progress = selectors.round_progress(round_id=round_id)
    template = (
        "conversations/round_progress_body.html" if request.GET.get("partial") else "conversations/round_progress.html"
    )
    return render(request, template, {"progress": progress, "round": progress.round})
