/*
 * The admin's Markdown editor: enhances django-markdownx's widget markup
 * (<div class="markdownx"><textarea class="markdownx-editor" ...><div class="markdownx-preview">).
 *
 * It replaces the package's own script, which traps Tab, pastes "Invalid response" into the
 * text when an upload fails and never sets up inline rows added with "Add another".
 *
 * - live preview from the site's own renderer (the data-markdownx-urls-path endpoint), told which
 *   section or article the text is for (data-preview-* attributes, an inline row's own id, the
 *   form's article field), shown in a sandboxed frame with the public stylesheet;
 * - images uploaded by drag-and-drop, paste or the "Upload image…" button
 *   (data-markdownx-upload-urls-path); errors are announced under the editor, never
 *   written into the Markdown;
 * - Tab and Shift+Tab move focus as everywhere else; Ctrl/Cmd+] and Ctrl/Cmd+[ indent and
 *   outdent the selected lines.
 *
 * Plain ES2017, no dependencies, no inline styles (the admin's Content-Security-Policy).
 * Without JavaScript the textarea is an ordinary textarea.
 */
(function () {
  "use strict";

  var READY = "data-editor-ready";
  var MIN_LATENCY = 200;
  var INDENT = "    ";
  var idCounter = 0;

  // Named gettext so that makemessages -d djangojs finds the strings; the catalogue is loaded by the widget.
  function gettext(text) {
    return typeof window.gettext === "function" ? window.gettext(text) : text;
  }

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) {
        try {
          return decodeURIComponent(parts[i].slice(eq + 1));
        } catch (error) {
          return null;
        }
      }
    }
    return null;
  }

  function csrfToken(editor) {
    // The admin sets CSRF_COOKIE_HTTPONLY, so the form's hidden input is the usual source.
    var form = editor.form;
    var input = (form && form.querySelector("input[name='csrfmiddlewaretoken']")) ||
      document.querySelector("input[name='csrfmiddlewaretoken']");
    return (input && input.value) || cookie("csrftoken") || "";
  }

  function post(editor, url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(editor),
        "X-Requested-With": "XMLHttpRequest",
      },
    });
  }

  function isTemplateRow(container) {
    // Django's hidden "empty form" is cloned for each new inline row: enhancing it would copy
    // our markup (without its listeners) into every added row.
    return Boolean(container.closest(".empty-form, [id$='-empty']"));
  }

  function uploadErrorMessage(response, data) {
    if (data && typeof data.error === "string" && data.error) return data.error;
    if (response && response.status === 403) {
      return gettext("The upload was refused. Your session may have expired: reload the page, sign in again and retry.");
    }
    if (response && response.status === 413) {
      return gettext("This file is too large to upload. Images may be at most 5 MB.");
    }
    if (response) {
      return format(gettext("The upload failed (server error %(status)s). Try again, or add the image under Figures."),
        { status: response.status });
    }
    return gettext("The upload failed: the server could not be reached. Check your connection and try again.");
  }

  function isImageFile(file) {
    return file && (!file.type || file.type.indexOf("image/") === 0);
  }

  function filesFrom(list) {
    return Array.prototype.slice.call(list || []);
  }

  function carriesFiles(event) {
    return Boolean(event.dataTransfer) && filesFrom(event.dataTransfer.types).indexOf("Files") !== -1;
  }

  function MarkdownEditor(container) {
    this.container = container;
    this.editor = container.querySelector("textarea.markdownx-editor, .markdownx-editor");
    this.preview = container.querySelector(".markdownx-preview");
    this.previewUrl = this.editor.getAttribute("data-markdownx-urls-path");
    this.uploadUrl = this.editor.getAttribute("data-markdownx-upload-urls-path");
    this.latency = Math.max(parseInt(this.editor.getAttribute("data-markdownx-latency"), 10) || 0, MIN_LATENCY);
    this.autoGrow = /^true$/i.test(this.editor.getAttribute("data-markdownx-editor-resizable") || "");
    this.timer = null;
    this.previewRequest = 0;
    this.uploads = 0;
    this.statusKind = "";
    // Until the editor has been used, a textarea's cursor sits at the start of the text.
    this.cursorPlaced = false;
    this.build();
    this.bind();
    this.resize();
    this.refreshPreview();
  }

  MarkdownEditor.prototype.build = function () {
    var id = this.editor.id || "markdown-editor-" + (++idCounter);
    var container = this.container;
    container.classList.add("markdown-editor");

    this.toolbar = element("div", "markdown-editor-toolbar");
    this.button = element("button", "markdown-editor-upload button", gettext("Upload image…"));
    this.button.type = "button";
    this.fileInput = element("input", "markdown-editor-file");
    this.fileInput.type = "file";
    this.fileInput.accept = "image/png,image/jpeg,image/webp";
    this.fileInput.multiple = true;
    this.fileInput.hidden = true;
    this.fileInput.tabIndex = -1;
    this.fileInput.setAttribute("aria-hidden", "true");
    var hint = element("span", "markdown-editor-hint",
      gettext("PNG, JPEG or WebP. You can also drop or paste an image into the text."));
    hint.id = id + "-upload-hint";
    this.button.setAttribute("aria-describedby", hint.id);
    this.toolbar.append(this.button, this.fileInput, hint);

    this.status = element("p", "markdown-editor-status");
    this.status.id = id + "-status";
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    this.status.hidden = true;

    // A label, not a heading: the preview is a named region, and a heading here would break the admin
    // page's outline (the field sits under an h1 or h2, or an inline row's h3).
    this.previewHeading = element("p", "markdown-editor-preview-heading", gettext("Preview (as readers will see it)"));
    this.previewHeading.id = id + "-preview-heading";
    this.preview.setAttribute("role", "region");
    this.preview.setAttribute("aria-labelledby", this.previewHeading.id);
    this.preview.classList.add("markdown-editor-preview");
    // A frame of its own: the public stylesheet applies inside and nowhere else. Sandboxed without
    // scripts; same origin only so that its height can follow its content.
    this.frame = element("iframe", "markdown-editor-frame");
    this.frame.title = gettext("Preview (as readers will see it)");
    this.frame.setAttribute("sandbox", "allow-same-origin");
    this.preview.textContent = "";
    this.preview.appendChild(this.frame);

    this.editor.after(this.toolbar, this.status);
    this.preview.before(this.previewHeading);
    var described = (this.editor.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    described.push(this.status.id);
    this.editor.setAttribute("aria-describedby", described.join(" "));
  };

  MarkdownEditor.prototype.bind = function () {
    var self = this;
    this.editor.addEventListener("input", function () {
      self.resize();
      self.schedulePreview();
    });
    this.editor.addEventListener("keydown", function (event) { self.onKeyDown(event); });
    this.editor.addEventListener("paste", function (event) { self.onPaste(event); });
    ["focus", "mouseup", "keyup", "select"].forEach(function (type) {
      self.editor.addEventListener(type, function () { self.cursorPlaced = true; });
    });
    // The whole editor, preview included, takes dropped files: a near miss must not make the
    // browser open the image instead of the form.
    this.container.addEventListener("dragover", function (event) { self.onDragOver(event); });
    this.container.addEventListener("dragenter", function (event) { self.onDragOver(event); });
    this.container.addEventListener("dragleave", function (event) {
      if (!self.container.contains(event.relatedTarget)) self.container.classList.remove("is-dragover");
    });
    this.container.addEventListener("drop", function (event) { self.onDrop(event); });
    this.button.addEventListener("click", function () { self.fileInput.click(); });
    this.fileInput.addEventListener("change", function () {
      var files = filesFrom(self.fileInput.files);
      // Cleared so that choosing the same file again still fires "change".
      self.fileInput.value = "";
      self.uploadAll(files);
    });
  };

  // --- Preview -------------------------------------------------------------------------------

  MarkdownEditor.prototype.schedulePreview = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.refreshPreview(); }, this.latency);
  };

  /** Which section or article the text belongs to, so that the server numbers its notes in place. */
  MarkdownEditor.prototype.previewContext = function (body) {
    var editor = this.editor;
    var form = editor.form;
    var section = editor.getAttribute("data-preview-section") || "";
    var article = editor.getAttribute("data-preview-article") || "";
    var name = editor.name || "";
    var dash = name.lastIndexOf("-");
    if (form && dash !== -1) {
      // An inline row ("sections-0-body"): its own id field says which section it is.
      var own = form.querySelector("input[name='" + name.slice(0, dash + 1) + "id']");
      section = own && /^\d+$/.test(own.value) ? own.value : "";
    }
    if (form && !article && !section) {
      var chosen = form.querySelector("[name='article']");
      if (chosen && /^\d+$/.test(chosen.value)) article = chosen.value;
    }
    body.append("field", editor.getAttribute("data-preview-field") || name.slice(dash + 1));
    if (section) body.append("section", section);
    if (article) body.append("article", article);
  };

  MarkdownEditor.prototype.fitFrame = function () {
    var doc = this.frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    this.frame.style.height = Math.ceil(doc.documentElement.getBoundingClientRect().height) + "px";
  };

  MarkdownEditor.prototype.showPreview = function (html) {
    var self = this;
    this.frame.onload = function () {
      self.fitFrame();
      var doc = self.frame.contentDocument;
      // Fonts and images arrive after "load": follow the page's height as it settles.
      if (doc && window.ResizeObserver) new ResizeObserver(function () { self.fitFrame(); }).observe(doc.documentElement);
      self.container.dispatchEvent(new CustomEvent("markdownx.update", { bubbles: true, detail: html }));
    };
    this.frame.srcdoc = html;
  };

  MarkdownEditor.prototype.refreshPreview = function () {
    var self = this;
    var request = ++this.previewRequest;
    clearTimeout(this.timer);
    if (!this.editor.value.trim()) {
      this.frame.removeAttribute("srcdoc");
      this.preview.classList.add("is-empty");
      this.preview.setAttribute("data-empty-text", gettext("Nothing to preview yet."));
      return Promise.resolve();
    }
    if (!this.previewUrl) return Promise.resolve();
    var body = new FormData();
    body.append("content", this.editor.value);
    this.previewContext(body);
    this.container.classList.add("is-previewing");
    return post(this.editor, this.previewUrl, body)
      .then(function (response) {
        if (!response.ok) throw response;
        return response.text();
      })
      .then(function (html) {
        // A slower, older answer must not overwrite a newer one.
        if (request !== self.previewRequest) return;
        // The endpoint returns a page around the site's own sanitised rendering (articles.admin.preview).
        self.preview.classList.remove("is-empty");
        self.showPreview(html);
        if (self.statusKind === "preview-error") self.clearStatus();
      })
      .catch(function (problem) {
        if (request !== self.previewRequest) return;
        var text = problem && problem.status === 403
          ? gettext("The preview could not be updated: your session may have expired. Reload the page to sign in again.")
          : gettext("The preview could not be updated. Your text is safe; keep writing and it will retry.");
        // Upload messages matter more than a preview hiccup.
        if (self.statusKind !== "error" && self.uploads === 0) self.setStatus(text, "preview-error");
      })
      .then(function () {
        if (request === self.previewRequest) self.container.classList.remove("is-previewing");
      });
  };

  // --- Status --------------------------------------------------------------------------------

  MarkdownEditor.prototype.setStatus = function (text, kind) {
    this.statusKind = kind;
    this.status.textContent = text;
    this.status.hidden = false;
    this.status.classList.toggle("is-error", kind === "error" || kind === "preview-error");
    this.status.classList.toggle("is-busy", kind === "busy");
    this.status.classList.toggle("is-success", kind === "success");
  };

  MarkdownEditor.prototype.clearStatus = function () {
    this.statusKind = "";
    this.status.textContent = "";
    this.status.hidden = true;
    this.status.classList.remove("is-error", "is-busy", "is-success");
  };

  // --- Uploads -------------------------------------------------------------------------------

  MarkdownEditor.prototype.onPaste = function (event) {
    var data = event.clipboardData;
    if (!data) return;
    var files = filesFrom(data.files).filter(isImageFile);
    // Text copied from a word processor often carries a picture of itself: paste the text.
    if (!files.length || data.getData("text/plain")) return;
    event.preventDefault();
    this.uploadAll(files);
  };

  MarkdownEditor.prototype.onDragOver = function (event) {
    if (!carriesFiles(event)) return; // dragging text: the browser's own behaviour
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    this.container.classList.add("is-dragover");
  };

  MarkdownEditor.prototype.onDrop = function (event) {
    this.container.classList.remove("is-dragover");
    var files = event.dataTransfer ? filesFrom(event.dataTransfer.files) : [];
    if (!files.length) return;
    event.preventDefault();
    if (event.target === this.editor) this.cursorPlaced = true;
    this.editor.focus();
    this.uploadAll(files);
  };

  MarkdownEditor.prototype.uploadAll = function (files) {
    var self = this;
    // One at a time, so that images land in the text in the order they were chosen.
    return files.reduce(function (previous, file) {
      return previous.then(function () { return self.upload(file); });
    }, Promise.resolve());
  };

  MarkdownEditor.prototype.upload = function (file) {
    var self = this;
    if (!this.uploadUrl) return Promise.resolve();
    var body = new FormData();
    body.append("image", file, file.name || "image");
    this.setBusy(true);
    this.setStatus(format(gettext("Uploading “%(name)s”…"), { name: file.name || gettext("image") }), "busy");
    var response = null;
    return post(this.editor, this.uploadUrl, body)
      .then(function (answer) {
        response = answer;
        return answer.json().catch(function () { return null; });
      })
      .then(function (data) {
        if (response.ok && data && typeof data.image_code === "string" && data.image_code) {
          self.insertBlock(data.image_code);
          self.setStatus(format(
            gettext("“%(name)s” was uploaded and added to the text. Replace the words in [brackets] with a description " +
              "of the image for readers who cannot see it. The image is published once a moderator approves it."),
            { name: file.name || gettext("image") }), "success");
          self.container.dispatchEvent(new CustomEvent("markdownx.fileUploadEnd", { bubbles: true, detail: data }));
        } else {
          self.showUploadError(file, uploadErrorMessage(response, data));
        }
      }, function () {
        self.showUploadError(file, uploadErrorMessage(null, null));
      })
      .then(function () { self.setBusy(false); });
  };

  MarkdownEditor.prototype.showUploadError = function (file, message) {
    var prefix = file && file.name ? format(gettext("“%(name)s” was not uploaded: "), { name: file.name }) : "";
    this.setStatus(prefix + message, "error");
    this.container.dispatchEvent(new CustomEvent("markdownx.fileUploadError", { bubbles: true, detail: message }));
  };

  MarkdownEditor.prototype.setBusy = function (busy) {
    this.uploads += busy ? 1 : -1;
    // The button stays enabled: disabling it would drop a keyboard user's focus to the page.
    this.container.classList.toggle("is-uploading", this.uploads > 0);
  };

  /** Insert text at the cursor as a paragraph of its own (an image inside a sentence is inline). */
  MarkdownEditor.prototype.insertBlock = function (text) {
    var editor = this.editor;
    var value = editor.value;
    var start = this.cursorPlaced ? editor.selectionStart : value.length;
    var end = this.cursorPlaced ? editor.selectionEnd : value.length;
    var before = value.slice(0, start);
    var after = value.slice(end);
    var lead = before === "" ? "" : /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
    var trail = after === "" ? "\n" : /^\n\n/.test(after) ? "" : /^\n/.test(after) ? "\n" : "\n\n";
    var inserted = lead + text + trail;
    editor.setRangeText(inserted, start, end, "end");
    // Listeners (ours, Django's prepopulated fields, "unsaved changes" guards) see a normal edit.
    editor.dispatchEvent(new Event("input", { bubbles: true }));
    this.refreshPreview();
  };

  // --- Keyboard ------------------------------------------------------------------------------

  MarkdownEditor.prototype.onKeyDown = function (event) {
    // Tab is deliberately not handled: it moves focus, as in every other field.
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    if (event.key === "]") {
      event.preventDefault();
      this.indentLines(false);
    } else if (event.key === "[") {
      event.preventDefault();
      this.indentLines(true);
    }
  };

  MarkdownEditor.prototype.indentLines = function (outdent) {
    var editor = this.editor;
    var value = editor.value;
    var start = editor.selectionStart;
    var end = editor.selectionEnd;
    var lineStart = value.lastIndexOf("\n", start - 1) + 1;
    // A selection ending at the start of a line does not include that line.
    var lastEnd = end > start && value[end - 1] === "\n" ? end - 1 : end;
    var lineEnd = value.indexOf("\n", lastEnd);
    if (lineEnd === -1) lineEnd = value.length;
    var lines = value.slice(lineStart, lineEnd).split("\n");
    var firstShift = 0;
    var total = 0;
    var changed = lines.map(function (line, index) {
      var shift;
      if (outdent) {
        var match = /^( {1,4}|\t)/.exec(line);
        shift = match ? -match[0].length : 0;
        line = match ? line.slice(match[0].length) : line;
      } else {
        shift = INDENT.length;
        line = INDENT + line;
      }
      if (index === 0) firstShift = shift;
      total += shift;
      return line;
    });
    editor.setRangeText(changed.join("\n"), lineStart, lineEnd, "preserve");
    editor.selectionStart = Math.max(lineStart, start + firstShift);
    editor.selectionEnd = Math.max(editor.selectionStart, end + total);
    editor.dispatchEvent(new Event("input", { bubbles: true }));
  };

  // --- Size ----------------------------------------------------------------------------------

  MarkdownEditor.prototype.resize = function () {
    if (!this.autoGrow || !this.editor.offsetParent) return;
    // Only grows: shrinking while typing makes the page jump under the cursor.
    var needed = this.editor.scrollHeight + (this.editor.offsetHeight - this.editor.clientHeight);
    if (needed > this.editor.offsetHeight) this.editor.style.height = needed + "px";
  };

  // --- Setup ---------------------------------------------------------------------------------

  function enhance(container) {
    if (container.hasAttribute(READY) || isTemplateRow(container)) return;
    var editor = container.querySelector(".markdownx-editor");
    var preview = container.querySelector(".markdownx-preview");
    if (!editor || !preview) return;
    container.setAttribute(READY, "");
    try {
      new MarkdownEditor(container);
    } catch (error) {
      // Leave a working plain textarea behind rather than a half-built editor.
      container.removeAttribute(READY);
      if (window.console) window.console.error("Markdown editor could not start:", error);
    }
  }

  function enhanceAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.classList && scope.classList.contains("markdownx")) enhance(scope);
    Array.prototype.forEach.call(scope.querySelectorAll(".markdownx"), enhance);
  }

  function guardAgainstOpeningDroppedFiles(event) {
    // A file dropped beside an editor would make the browser leave the page and lose the
    // form. File inputs keep their own drop behaviour.
    if (!carriesFiles(event)) return;
    var target = event.target && event.target.closest ? event.target : null;
    if (target && target.closest("input[type=file], .markdown-editor")) return;
    event.preventDefault();
    if (event.type === "dragover") event.dataTransfer.dropEffect = "none";
  }

  // For scripts that add editors to the page themselves.
  window.MarkdownEditor = { enhance: enhanceAll };
  document.addEventListener("dragover", guardAgainstOpeningDroppedFiles);
  document.addEventListener("drop", guardAgainstOpeningDroppedFiles);

  // Django admin (4.1+) dispatches "formset:added" on the new inline row; it bubbles to document.
  document.addEventListener("formset:added", function (event) { enhanceAll(event.target); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); }, { once: true });
  } else {
    enhanceAll(document);
  }
})();
