class ConflictError(Exception):
    """Someone else saved the same record first (optimistic version check failed)."""

    def __init__(self, message: str = "该记录已被他人修改，请刷新页面后重新编辑。"):
        super().__init__(message)
        self.message = message
