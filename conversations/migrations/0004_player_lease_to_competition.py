"""PlayerLease moves to competition (the round's pipeline owns it): this app forgets the model and
its table is renamed to competition's name, rows kept. competition/0003_player_lease takes it over."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0003_reaper_schedule"),
        # The organizer group's permissions on the lease are created there; they move with it.
        ("competition", "0002_groups"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="playerlease", table="competition_playerlease")],
            state_operations=[migrations.DeleteModel(name="PlayerLease")],
        )
    ]
