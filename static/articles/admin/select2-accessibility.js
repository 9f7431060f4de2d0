/*
 * Accessible names and list structure for the admin's autocomplete widgets (Django's Select2).
 *
 * Select2 4.0 names its combobox after the current choice, so an empty field has no name; it gives
 * the search field of a multiple select, and of the dropdown, no label; and it puts its "clear"
 * button, a <span>, inside the <ul> of choices. axe-core reports each of these on the change forms
 * (tests/test_accessibility_browser.py). This names every part after the field's own <label> and
 * moves the clear button beside the list. Select2 re-renders those parts when the choice changes,
 * and inline rows add widgets later, so a MutationObserver applies it again.
 */
"use strict";
{
  function labelFor(select) {
    if (!select || select.tagName !== "SELECT" || !select.id) return null;
    const label = document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
    if (label && !label.id) label.id = `${select.id}-label`;
    return label;
  }

  function labelledBy(element, ids) {
    const value = ids.filter(Boolean).join(" ");
    if (element && element.getAttribute("aria-labelledby") !== value) {
      element.setAttribute("aria-labelledby", value);
    }
  }

  function repair(container) {
    const label = labelFor(container.previousElementSibling);
    if (!label) return;
    const combobox = container.querySelector(".select2-selection[role='combobox']");
    const rendered = container.querySelector(".select2-selection__rendered");
    if (combobox) labelledBy(combobox, [label.id, rendered && rendered.id]);
    if (rendered && rendered.getAttribute("role") === "textbox") labelledBy(rendered, [label.id]);
    container.querySelectorAll(".select2-search__field").forEach((field) => labelledBy(field, [label.id]));
    moveClearButton(container);
  }

  // Select2 empties the list and adds a new clear button to it on every change; the one moved out
  // earlier is then stale, and with nothing chosen there is nothing to clear.
  function moveClearButton(container) {
    const list = container.querySelector("ul.select2-selection__rendered");
    if (!list) return;
    const moved = [...list.parentElement.querySelectorAll(":scope > .select2-selection__clear")];
    const fresh = list.querySelector(":scope > .select2-selection__clear");
    if (fresh) {
      moved.forEach((clear) => clear.remove());
      list.before(fresh);
    } else if (!list.querySelector(".select2-selection__choice")) {
      moved.forEach((clear) => clear.remove());
    }
  }

  function repairAll() {
    document.querySelectorAll("select + .select2-container").forEach(repair);
  }

  new MutationObserver(repairAll).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", repairAll);

  // The dropdown (with its own search field) is added to the end of the page when it opens.
  window.addEventListener("load", () => {
    if (!window.django || !window.django.jQuery) return;
    window.django.jQuery(document).on("select2:open", (event) => {
      const label = labelFor(event.target);
      if (!label) return;
      document.querySelectorAll(".select2-container--open .select2-search--dropdown .select2-search__field")
        .forEach((field) => labelledBy(field, [label.id]));
    });
  });
}
