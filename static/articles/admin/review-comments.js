/* Selecting words in the proposal's diff on the review page fills the new comment's passage.
 *
 * The diff (templates/admin/articles/_changes.html) shows the proposal's words with removed words
 * in <del> and hidden "[added: …]" labels for screen readers: only the proposal's side counts, so
 * the selection's offset in that text is where the words are in the proposed field, which the
 * server checks (articles.revisions.comments). Without this script the passage is pasted by hand.
 */
(function () {
  "use strict";
  var form = document.getElementById("new-comment-form");
  var area = document.getElementById("proposal-changes");
  if (!form || !area) {
    return;
  }
  var fieldSelect = form.querySelector("[name=field]");
  var quoteBox = form.querySelector("[name=quote]");
  var startInput = form.querySelector("[name=start]");
  var status = document.getElementById("comment-selection-status");
  var gettext = window.gettext || function (text) { return text; };
  area.classList.add("can-anchor");

  function counts(node) {
    // A text node of the proposal's side: not removed words, not the screen-reader labels.
    var parent = node.parentElement;
    return !!parent && !parent.closest("del, .visually-hidden");
  }

  function textNodes(pre) {
    var walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    var nodes = [];
    var node;
    while ((node = walker.nextNode())) {
      nodes.push(node);
    }
    return nodes;
  }

  function offsetIn(pre, container, offset) {
    // Characters of the proposal's text before the point (container, offset).
    var point = document.createRange();
    point.setStart(container, offset);
    var total = 0;
    textNodes(pre).forEach(function (node) {
      if (!counts(node)) {
        return;
      }
      if (node === container) {
        total += offset;
      } else if (point.comparePoint(node, node.data.length) < 0) {
        total += node.data.length; // the whole node is before the point
      }
    });
    return total;
  }

  function proposalText(pre) {
    return textNodes(pre).filter(counts).map(function (node) { return node.data; }).join("");
  }

  function onSelection() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) {
      return;
    }
    var range = selection.getRangeAt(0);
    var start = range.startContainer.nodeType === Node.ELEMENT_NODE ? range.startContainer : range.startContainer.parentElement;
    var pre = start && start.closest("#proposal-changes .diff-text");
    if (!pre || !pre.contains(range.endContainer)) {
      return;
    }
    var section = pre.closest("[data-field]");
    var text = proposalText(pre);
    var from = offsetIn(pre, range.startContainer, range.startOffset);
    var to = offsetIn(pre, range.endContainer, range.endOffset);
    var quote = text.slice(from, to);
    var lead = quote.length - quote.replace(/^\s+/, "").length;
    quote = quote.trim();
    if (!quote || !section) {
      return;
    }
    fieldSelect.value = section.getAttribute("data-field");
    quoteBox.value = quote;
    startInput.value = String(from + lead);
    var heading = section.querySelector("h3");
    status.textContent = "";
    var note = document.createTextNode(
      interpolate(gettext("Passage selected in “%s”. "), [heading ? heading.textContent : ""])
    );
    var link = document.createElement("a");
    link.href = "#id_body";
    link.textContent = gettext("Write the comment");
    link.addEventListener("click", function () {
      window.setTimeout(function () { form.querySelector("[name=body]").focus(); }, 0);
    });
    status.appendChild(note);
    status.appendChild(link);
  }

  function interpolate(format, values) {
    return window.interpolate ? window.interpolate(format, values) : format.replace("%s", values[0]);
  }

  area.addEventListener("mouseup", onSelection);
  area.addEventListener("keyup", function (event) {
    if (event.shiftKey) {
      onSelection();
    }
  });
  // A passage typed or pasted by hand is found by the server: an offset from an old selection would mislead it.
  quoteBox.addEventListener("input", function () { startInput.value = ""; });
})();
