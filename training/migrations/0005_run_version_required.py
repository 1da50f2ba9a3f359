import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0004: PostgreSQL refuses to alter a table with pending trigger events in the transaction
    that wrote its rows."""

    dependencies = [
        ("training", "0004_runs_point_at_versions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="run",
            name="version",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="runs",
                                    to="builder.networkversion"),
        ),
        migrations.RemoveField(model_name="run", name="graph"),
        migrations.RemoveField(model_name="run", name="network_version"),
    ]
