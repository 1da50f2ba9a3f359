import django.db.models.deletion
from django.db import migrations, models


def link_versions(apps, schema_editor):
    """Point each run at the version it trained. A run whose graph matches no stored version (a database
    from before versions were kept) gets a version row of its own, so no run loses its graph."""
    Run = apps.get_model("training", "Run")
    NetworkVersion = apps.get_model("builder", "NetworkVersion")
    for run in Run.objects.all().iterator():
        version = NetworkVersion.objects.filter(network_id=run.network_id, number=run.network_version).first()
        if version is None or version.graph != run.graph:
            # JSON equality is not portable across databases: compare in Python.
            version = next((candidate for candidate in NetworkVersion.objects.filter(network_id=run.network_id)
                            if candidate.graph == run.graph), None)
        if version is None:
            latest = NetworkVersion.objects.filter(network_id=run.network_id).aggregate(models.Max("number"))
            version = NetworkVersion.objects.create(network_id=run.network_id, graph=run.graph,
                                                    number=(latest["number__max"] or 0) + 1,
                                                    message=f"the graph run {run.pk} trained")
        run.version = version
        run.save(update_fields=["version"])


class Migration(migrations.Migration):

    dependencies = [
        ("builder", "0002_version_messages"),
        ("training", "0003_fair_queue_and_workers"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="version",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="runs",
                                    to="builder.networkversion"),
        ),
        # Backwards only while no run exists: the graphs' copies are gone once this ran.
        migrations.RunPython(link_versions, migrations.RunPython.noop),
    ]
