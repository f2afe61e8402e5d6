from reports.api.views import ReportViewSet


def register(router) -> None:
    router.register("reports", ReportViewSet, basename="report")
