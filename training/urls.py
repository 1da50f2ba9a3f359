from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("networks/<int:network_id>/train/", views.dashboard, name="dashboard"),
    path("s/<str:token>/", views.shared, name="shared"),
]
