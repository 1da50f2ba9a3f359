from django.db import migrations, models


class Migration(migrations.Migration):
    """Uploads are parsed once into arrays in storage. Older uploads keep an empty `arrays` and are converted on
    their first use (training.data.upload_dataset), not here: parsing every upload would make the migration as
    slow as all of them together, and one that the new budgets refuse would stop it."""

    dependencies = [
        ("training", "0006_fair_turns_and_lost_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="uploadeddataset",
            name="arrays",
            field=models.CharField(blank=True, max_length=255),
        ),
    ]
