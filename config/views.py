from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render


def signup(request):
    """Create an account with a username and password, log it in and go home."""
    if request.user.is_authenticated:
        return redirect("builder:home")
    if request.method == "POST":
        form = UserCreationForm(request.POST)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("builder:home")
    else:
        form = UserCreationForm()
    return render(request, "registration/signup.html", {"form": form})
