"""Open an HTML page in headless Chromium (Debian ``chromium`` + ``chromium-driver``,
driven by Selenium) and report what a reader would see."""

from __future__ import annotations

import shutil
from pathlib import Path

# For each image: alt, loaded, natural size, and the share of its pixels that are not
# (near-)white, measured on a canvas (data: URIs are same-origin, so it is readable).
_IMAGES_JS = """
return Array.from(document.images).map(img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  let inked = 0;
  if (img.complete && c.width > 0) {
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240) inked++;
    }
  }
  const box = img.getBoundingClientRect();
  return {alt: img.alt, complete: img.complete, width: img.naturalWidth,
          height: img.naturalHeight, shown_width: box.width,
          inked: c.width ? inked / (c.width * c.height) : 0};
});
"""
_CELLS_JS = "return Array.from(document.querySelectorAll('table td')).map(td => td.textContent.trim());"


def chromium_paths() -> tuple[str, str] | None:
    """(browser, driver) executables, or None when Chromium is not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def inspect_page(page: Path, screenshot: Path) -> dict:
    """Load ``page``; return its images, table cells and banner; save a full-page PNG."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1280,1000")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=paths[1]))
    try:
        driver.get(Path(page).resolve().as_uri())
        images = driver.execute_script(_IMAGES_JS)
        cells = driver.execute_script(_CELLS_JS)
        banner = driver.find_elements(By.ID, "synthetic-banner")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(int(height) + 100, 16000))
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(screenshot))
        return {
            "title": driver.title,
            "images": images,
            "cells": cells,
            "banner": banner[0].text if banner else None,
        }
    finally:
        driver.quit()
