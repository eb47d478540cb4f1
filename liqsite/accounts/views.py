"""Account pages on Django's auth views: sign-up, email confirmation, throttled log-in, password change and reset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth
from django.contrib.auth.decorators import login_required
from django.forms.forms import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from liqsite.accounts import throttle
from liqsite.accounts.confirmation import confirmation_token_read
from liqsite.accounts.forms import LoginForm, OutboxPasswordResetForm, SignupForm
from liqsite.accounts.selectors import email_confirmed
from liqsite.accounts.services import account_signup, email_confirm, email_confirmation_request

CONFIRMATION_SENT = (
    "A link to confirm {email} is on its way: alerts are emailed once the address is confirmed. "
    "It can take a few minutes; check your spam folder too."
)


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("alerts:watchlist")
    if request.method == "POST" and not throttle.signup_allowed(request):
        # The form is not even validated past the limit: validating it would
        # still answer whether a username is taken.
        form = SignupForm(initial={"username": request.POST.get("username", ""), "email": request.POST.get("email", "")})
        return render(request, "accounts/signup.html", {"form": form, "refused": throttle.signup_message()}, status=429)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The same answer whether or not another account uses the address (its
        # owner gets a notice instead of a link): sign-up does not tell who has an account.
        user = account_signup(form=form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. Add markets to your watchlist, then make alert rules.")
        messages.info(request, CONFIRMATION_SENT.format(email=user.email))
        return redirect("alerts:watchlist")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_POST
def email_confirm_resend(request):
    if email_confirmation_request(user=request.user) == "confirmed":
        messages.info(request, f"{request.user.email} is already confirmed.")
    else:
        # Sent, a notice to the address's owner instead, or over the hourly limit: all read the same.
        messages.info(request, CONFIRMATION_SENT.format(email=request.user.email))
    return redirect("alerts:rule_list")


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm_view(request, token: str):
    """Opening the link asks; only the button confirms. Mail scanners open links in
    every message they check, and must not confirm an address for whoever signed up."""
    found = confirmation_token_read(token)
    user = get_user_model().objects.filter(pk=found.user_id, is_active=True).first() if found else None
    if user is None or user.email != found.email:
        return render(request, "accounts/email_confirm.html", {"outcome": "invalid"}, status=400)
    context = {"username": user.get_username(), "email": user.email}
    if request.method == "GET":
        outcome = "confirmed" if email_confirmed(user=user) else "ask"
    else:
        outcome = "confirmed" if email_confirm(user=user, email=found.email) else "taken"
    return render(
        request, "accounts/email_confirm.html", {**context, "outcome": outcome}, status=409 if outcome == "taken" else 200
    )


class LoginView(auth.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response


class PasswordResetView(auth.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "accounts/password_reset.html"

    def form_valid(self, form):
        if not throttle.reset_request_allowed(self.request):
            form.add_error(None, throttle.reset_message())
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().form_valid(form)


login_view = LoginView.as_view()
logout_view = auth.LogoutView.as_view()
password_change = auth.PasswordChangeView.as_view(template_name="accounts/password_change.html")
password_change_done = auth.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html")
password_reset = PasswordResetView.as_view()
password_reset_done = auth.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
password_reset_confirm = auth.PasswordResetConfirmView.as_view(template_name="accounts/password_reset_confirm.html")
password_reset_complete = auth.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html")
