"""What deleting an object means for training: a network with a run in progress stays, a run's row is locked
against its worker's writes while it goes, and a run's files and an upload's file go with their rows (also when a
network or a user is deleted and the rows cascade)."""

from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from builder.models import InUse, Network

from . import storage
from .models import Run, UploadedDataset
from .protocol import ACTIVE


@receiver(pre_delete, sender=Network)
def keep_a_network_in_training(sender, instance: Network, **kwargs) -> None:
    active = Run.objects.filter(network=instance, status__in=ACTIVE).order_by("created").first()
    if active is not None:
        raise InUse(f"run {active.pk} of network '{instance.name}' is {active.status}; stop it before deleting "
                    f"the network")


@receiver(pre_delete, sender=Run)
def hold_a_run_being_deleted(sender, instance: Run, **kwargs) -> None:
    # Sent inside the deletion's transaction, before any row goes. With the run's row locked, its worker can't store
    # an event between the deletion of the run's events and of the run, which PostgreSQL would refuse at commit.
    list(Run.objects.select_for_update().filter(pk=instance.pk).values_list("pk", flat=True))


@receiver(post_delete, sender=Run)
def delete_run_files(sender, instance: Run, **kwargs) -> None:
    storage.delete_run_files(instance)


@receiver(post_delete, sender=UploadedDataset)
def delete_upload_file(sender, instance: UploadedDataset, **kwargs) -> None:
    instance.delete_files()
