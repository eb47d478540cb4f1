"""Pages of the alerts app: watchlist, alert rules, alert log, one-click unsubscribe.

Views stay thin: parse a form, call a service or a selector, render. Each page
is one template with ``{% partialdef %}`` parts; an HTMX request gets the part it
swaps, a plain request gets the whole page (or a redirect after a POST), so
every control also works without JavaScript. Per-user objects are always
looked up through a selector filtered on ``request.user``: another user's id
is a 404, never their data.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.forms import NON_FIELD_ERRORS
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, reswap, retarget

from alerts.forms import MoveForm, PauseForm, RuleForm, WatchlistAddForm
from alerts.selectors import alert_log, rule_list, watchlist_items, watchlist_rows
from alerts.services import rules as rule_services
from alerts.services.evaluation import rule_check
from alerts.services.watchlist import watchlist_item_add, watchlist_item_move, watchlist_item_remove
from liqsite.accounts.selectors import email_confirmed
from liqsite.htmx import PARTIAL_VARY, wants_partial

# --- Watchlist ----------------------------------------------------------------


def _watchlist_page(request, form=None):
    context = {"rows": watchlist_rows(user=request.user), "form": form or WatchlistAddForm()}
    return render(request, "alerts/watchlist.html#watchlist" if wants_partial(request) else "alerts/watchlist.html", context)


def _watchlist_done(request):
    return _watchlist_page(request) if wants_partial(request) else redirect("alerts:watchlist")


@login_required
@require_GET
@vary_on_headers(*PARTIAL_VARY)
def watchlist(request):
    return _watchlist_page(request)


@login_required
@require_POST
def watchlist_add(request):
    form = WatchlistAddForm(request.POST)
    if form.is_valid():
        market, coin = form.cleaned_data["target"]
        try:
            watchlist_item_add(user=request.user, market=market, coin=coin)
        except ValidationError as error:
            form.add_error("target", error)
        else:
            return _watchlist_done(request)
    return _watchlist_page(request, form)


@login_required
@require_POST
def watchlist_remove(request, pk: int):
    watchlist_item_remove(item=get_object_or_404(watchlist_items(user=request.user), pk=pk))
    return _watchlist_done(request)


@login_required
@require_POST
def watchlist_move(request, pk: int):
    item = get_object_or_404(watchlist_items(user=request.user), pk=pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        watchlist_item_move(item=item, direction=form.cleaned_data["direction"])
    return _watchlist_done(request)


# --- Alert rules --------------------------------------------------------------


def _rules_page(request, form: RuleForm, *, part: str = "", status: int = 200, **extra):
    context = {
        "rules": rule_list(user=request.user),
        "form": form,
        "editing": form.instance.pk,
        "email_confirmed": email_confirmed(user=request.user),
        **extra,
    }
    template = f"alerts/rules.html#{part}" if part and wants_partial(request) else "alerts/rules.html"
    return render(request, template, context, status=status)


def _rule_form_post(request, form: RuleForm, save):
    """Shared by create and edit: inline validation, then save or show the errors."""
    if request.htmx and request.POST.get("validate"):
        form.is_valid()
        # Inline validation runs while the user fills the form in: only speak
        # about fields that have a value, not about those not reached yet.
        for name in [name for name in form.errors if name != NON_FIELD_ERRORS and not form.data.get(name)]:
            del form.errors[name]
        return _rules_page(request, form, part="rule-errors")
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if wants_partial(request):
                response = _rules_page(request, RuleForm(), part="rules-page", saved=True)
                return push_url(response, reverse("alerts:rule_list"))
            messages.success(request, "Alert rule saved.")
            return redirect("alerts:rule_list")
    if wants_partial(request):
        return retarget(reswap(_rules_page(request, form, part="rule-form"), "outerHTML"), "#rule-form")
    return _rules_page(request, form, status=400)


@login_required
@require_GET
@vary_on_headers(*PARTIAL_VARY)
def rules(request):
    return _rules_page(request, RuleForm(initial={"target": request.GET.get("target", "")}), part="rules-page")


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers(*PARTIAL_VARY)
def rule_new(request):
    if request.method == "GET":
        return _rules_page(request, RuleForm(initial={"target": request.GET.get("target", "")}), part="rule-form")
    return _rule_form_post(request, RuleForm(request.POST), lambda data: rule_services.rule_create(user=request.user, data=data))


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers(*PARTIAL_VARY)
def rule_edit(request, pk: int):
    rule = get_object_or_404(rule_list(user=request.user), pk=pk)
    if request.method == "GET":
        return _rules_page(request, RuleForm(instance=rule), part="rule-form")
    return _rule_form_post(
        request, RuleForm(request.POST, instance=rule), lambda data: rule_services.rule_update(rule=rule, data=data)
    )


@login_required
@require_GET
@vary_on_headers(*PARTIAL_VARY)
def rule_check_view(request, pk: int):
    """ "Check now": what the rule would say on the current map. A dry run: no alert row, no email."""
    rule = get_object_or_404(rule_list(user=request.user), pk=pk)
    return _rules_page(request, RuleForm(), part="rule-check", check=rule_check(rule), checked_rule=rule)


def _rule_list_done(request):
    if wants_partial(request):
        return _rules_page(request, RuleForm(), part="rule-list")
    return redirect("alerts:rule_list")


@login_required
@require_POST
def rule_delete(request, pk: int):
    rule_services.rule_delete(rule=get_object_or_404(rule_list(user=request.user), pk=pk))
    return _rule_list_done(request)


@login_required
@require_POST
def rule_pause(request, pk: int):
    rule = get_object_or_404(rule_list(user=request.user), pk=pk)
    form = PauseForm(request.POST)
    if form.is_valid():
        rule_services.rule_set_paused(rule=rule, paused=form.cleaned_data["paused"])
    return _rule_list_done(request)


# --- Alert log ----------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers(*PARTIAL_VARY)
def log(request):
    page = Paginator(alert_log(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "alerts/log.html#log-table" if wants_partial(request) else "alerts/log.html", {"page": page})


# --- One-click unsubscribe ----------------------------------------------------


# Mail clients send the one-click unsubscribe (RFC 8058) as a POST straight from
# the message, with no session and no CSRF token, so this view must be exempt
# from CSRF. That is safe here: the signed token in the URL is the credential,
# it names one rule, and all a request can do with it is pause that rule. A GET
# (link scanners and previews fetch links) only shows a confirmation button.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    rule = rule_services.rule_unsubscribe(token=token) if request.method == "POST" else rule_services.rule_from_token(token)
    if rule is None:
        return render(request, "alerts/unsubscribe.html", {"invalid": True}, status=404)
    return render(request, "alerts/unsubscribe.html", {"rule": rule, "done": request.method == "POST"})
