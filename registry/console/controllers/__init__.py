"""One Litestar controller a page group of the console."""
