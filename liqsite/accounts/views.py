"""Account pages on Django's auth views: sign-up, throttled log-in, password change and reset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth
from django.forms.forms import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from liqsite.accounts import throttle
from liqsite.accounts.forms import LoginForm, OutboxPasswordResetForm, SignupForm


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("alerts:watchlist")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. Add markets to your watchlist, then make alert rules.")
        return redirect("alerts:watchlist")
    return render(request, "accounts/signup.html", {"form": form})


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
    subject_template_name = "accounts/emails/password_reset_subject.txt"
    email_template_name = "accounts/emails/password_reset_body.txt"
    html_email_template_name = "accounts/emails/password_reset_body.html"

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
