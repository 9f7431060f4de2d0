"""Turn two-factor sign-in off for a staff member who lost both their phone and their recovery codes.

    python manage.py reset_two_factor editor

They sign in with their password alone afterwards; if their role requires two-factor sign-in
(MALI_HISTORY_REQUIRE_2FA_FOR), they set it up again straight after the password.
"""

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from articles.admin import two_factor


class Command(BaseCommand):
    help = "Remove a user's authenticator app and recovery codes (two-factor sign-in)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        had = two_factor.enrolled(user)
        two_factor.remove(user)
        if had:
            self.stdout.write(self.style.SUCCESS(f"Two-factor sign-in is off for {username}."))
        else:
            self.stdout.write(f"{username} had no two-factor sign-in; nothing changed.")
