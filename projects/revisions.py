"""Revision-control providers for project status pages (ORCHESTRA_GIT_PROVIDER and friends)."""


class GitProvider:
    def __init__(self, repository: str):
        self.repository = repository


class GitHubProvider:
    def __init__(self, repository: str):
        self.repository = repository
