"""Pages of the Streamlit app (``app.py``): one script per page, run through ``st.navigation``.

Pages are file-based (not callables) so ``AppTest.switch_page`` can open each one by path, and so
every page has a stable URL (``/search``, ``/unit`` …) an analyst can share. Shared plumbing — the
cached build, URL-bound widget state, safe markdown — lives in :mod:`policykg.app_pages.common`.
"""
