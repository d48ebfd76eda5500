"""The certification body console: server-rendered pages under `/console` (PRODUCT §4).

`tables.py` accounts and the database session store's rows; `accounts.py` users and
passwords; `store.py` the session store; `lockout.py` wrong-password lockout;
`guards.py` who may see what; `forms.py` form fields to the API's fields;
`reading.py` what the pages show, through the one read path; `controllers/`
one module a page group; `app.py` the router the registry app mounts.
"""
