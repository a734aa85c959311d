"""Make the documentation's picture of the web page (docs/page.png).

    python docs/make_page_picture.py

Renders the built-in demo film with its chapters and segments, writes its page with
``streamspec page``, opens it in the system's headless Chromium (see tests/browser.py),
points at a strip in "Summer" and takes a screenshot of the top of the page.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))  # browser.py
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # this checkout

HERE = Path(__file__).resolve().parent


def main() -> None:
    import browser
    from PIL import Image
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    import streamspec
    from streamspec.outputs.page import write_page

    why = browser.missing()
    if why:
        sys.exit(f"cannot take the picture: {why}")
    with tempfile.TemporaryDirectory() as d:
        spec = streamspec.render(None, chapters="auto", segments=True)
        page = write_page(spec, Path(d) / "demo.html")
        driver, profile = browser.start(1280, 1000)
        try:
            driver.get(page.as_uri())
            time.sleep(0.5)
            canvas = driver.find_element(By.ID, "overlay")
            strip = 150  # 1:15, early summer
            box = driver.execute_script("return streamspecPage.stripBox(0, arguments[0])", strip)
            rect = driver.execute_script(
                "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", canvas
            )
            ActionChains(driver).move_to_element_with_offset(
                canvas, round(box["cx"] - rect[0] / 2), round(box["y"] + 70 - rect[1] / 2)
            ).perform()
            time.sleep(0.4)  # the colour list follows once the pointer rests
            bottom = driver.execute_script(
                "return document.getElementById('details').getBoundingClientRect().bottom"
            )
            shot = Image.open(io.BytesIO(driver.get_screenshot_as_png()))
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    shot = shot.crop((0, 0, shot.width, min(shot.height, round(bottom) + 16))).convert("RGB")
    shot.save(HERE / "page.png", optimize=True)
    print("page.png", shot.size)


if __name__ == "__main__":
    main()
