from django.db import migrations, models


def add_missing_versions(apps, schema_editor):
    """Every network gets a version row for its current graph, so runs can point at it."""
    Network = apps.get_model("builder", "Network")
    NetworkVersion = apps.get_model("builder", "NetworkVersion")
    for network in Network.objects.all().iterator():
        if not NetworkVersion.objects.filter(network=network, number=network.version).exists():
            NetworkVersion.objects.create(network=network, number=network.version, graph=network.graph)


class Migration(migrations.Migration):

    dependencies = [
        ("builder", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="networkversion",
            name="message",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.RunPython(add_missing_versions, migrations.RunPython.noop),
    ]
