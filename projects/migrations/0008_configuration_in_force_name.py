from django.db import migrations, models


class Migration(migrations.Migration):
    """The configuration in force is found by a unique name, on every database (MongoDB's
    primary keys are ObjectIds, so the row cannot be the one with key 1)."""

    dependencies = [
        ('projects', '0007_notifications'),
    ]

    operations = [
        migrations.AddField(
            model_name='configurationinforce',
            name='name',
            field=models.CharField(default='in force', max_length=20, unique=True),
        ),
    ]
