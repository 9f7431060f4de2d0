/*
 * Unsent edits of an admin change form, kept in this browser (localStorage) until they are saved.
 *
 * The form's notice (templates/admin/articles/includes/autosave.html) names the copy: user,
 * object and form. Edits are written a moment after each change, with the time. When the form
 * opens and a copy differs from what the form shows (after a crash, a closed tab), the notice
 * offers "Restore your unsaved text from 10:42" or "Discard": never restored silently.
 *
 * The copy goes once the save is recorded: the page after the save shows the admin's success
 * message, or (when the save leads back to a public page, which runs no script) the next visit
 * to the form carries a new "saved token", the time of this user's latest proposal there. A save
 * the server refused comes back as the same form with its errors: the copy stays.
 *
 * Copies older than a month are dropped. Loaded on every admin page
 * (templates/admin/base_site.html), for the success message. Plain
 * ES2017, no dependencies, no inline styles (the admin's Content-Security-Policy). Without
 * JavaScript, or without localStorage, the form works as it always did.
 */
(function () {
  "use strict";

  var PREFIX = "mali-history:autosave:";
  var SUBMITTED = "mali-history:autosave-submitted";
  var DELAY = 800;
  var MAX_AGE = 30 * 24 * 60 * 60 * 1000; // a month
  var TEXT_INPUTS = ["text", "url", "email", "number", "search", "tel", "date", "time"];

  var storage;
  var session;
  try {
    storage = window.localStorage;
    session = window.sessionStorage;
    storage.getItem(PREFIX);
  } catch (error) {
    return; // storage refused (private mode, policy): nothing to keep
  }

  function read(key) {
    try {
      var entry = JSON.parse(storage.getItem(PREFIX + key));
      return entry && typeof entry.fields === "object" ? entry : null;
    } catch (error) {
      return null;
    }
  }

  function write(key, entry) {
    try {
      storage.setItem(PREFIX + key, JSON.stringify(entry));
    } catch (error) {
      // Full or refused: the form still works; only the safety copy is missing.
    }
  }

  function remove(key) {
    storage.removeItem(PREFIX + key);
  }

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  /* "10:42" today, else "December 4, 2026, 10:42" (fr: "4 décembre 2026, 10:42"): the site's time
   * zone and the date style of mali_history/formats. */
  function formatTime(ms, timeZone, language) {
    function formatter(options) {
      try {
        return new Intl.DateTimeFormat(language, Object.assign({ timeZone: timeZone }, options));
      } catch (error) {
        return new Intl.DateTimeFormat(language, options);
      }
    }
    var when = new Date(ms);
    var time = formatter({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(when);
    var day = formatter({ year: "numeric", month: "long", day: "numeric" });
    return day.format(when) === day.format(new Date()) ? time : day.format(when) + ", " + time;
  }

  /* The fields a person types into: text, text areas (the Markdown editor's included) and single
   * choices. Not hidden fields (the CSRF token, the base revision), files, boxes to tick ("Publish
   * now") or the blank row Django copies for "Add another". */
  function editableFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.name.indexOf("__prefix__") !== -1) return false;
      if (field.tagName === "TEXTAREA") return true;
      if (field.tagName === "SELECT") return !field.multiple;
      return field.tagName === "INPUT" && TEXT_INPUTS.indexOf(field.type) !== -1;
    });
  }

  function initialValue(field) {
    if (field.tagName !== "SELECT") return field.defaultValue;
    for (var i = 0; i < field.options.length; i++) {
      if (field.options[i].defaultSelected) return field.options[i].value;
    }
    return field.options.length ? field.options[0].value : "";
  }

  function AutosavedForm(notice) {
    this.notice = notice;
    this.form = notice.closest("form");
    this.key = notice.getAttribute("data-autosave-key");
    this.savedToken = notice.getAttribute("data-autosave-saved-token") || "";
    this.timeZone = notice.getAttribute("data-time-zone") || undefined;
    this.language = document.documentElement.lang || undefined;
    this.timer = null;
    this.waitingForChoice = false;
  }

  AutosavedForm.prototype.start = function () {
    var self = this;
    var refused = Boolean(document.querySelector(".errornote, .errorlist"));
    var entry = read(this.key);
    if (session.getItem(SUBMITTED) === this.key) {
      session.removeItem(SUBMITTED);
    }
    if (entry && entry.submittedAt) {
      if (refused) {
        // The server sent the form back with its errors: the edits are still unsent.
        delete entry.submittedAt;
        write(this.key, entry);
      } else if (entry.savedToken !== this.savedToken) {
        remove(this.key); // saved since: the page after the save ran no script (a public page)
        entry = null;
      }
    }
    if (entry && !refused && this.differs(entry)) {
      this.offer(entry);
    } else if (entry && !refused) {
      remove(this.key); // the form already shows it
    }
    this.form.addEventListener("input", function () { self.schedule(); });
    this.form.addEventListener("change", function () { self.schedule(); });
    this.form.addEventListener("submit", function () { self.submitted(); });
    window.addEventListener("pagehide", function () { self.saveNow(); });
  };

  AutosavedForm.prototype.differs = function (entry) {
    return editableFields(this.form).some(function (field) {
      return Object.prototype.hasOwnProperty.call(entry.fields, field.name) && entry.fields[field.name] !== field.value;
    });
  };

  AutosavedForm.prototype.schedule = function () {
    var self = this;
    if (this.waitingForChoice) return; // the older copy stays until the editor chooses
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.saveNow(); }, DELAY);
  };

  AutosavedForm.prototype.saveNow = function () {
    clearTimeout(this.timer);
    if (this.waitingForChoice) return;
    var previous = read(this.key);
    var fields = {};
    var kept = 0;
    editableFields(this.form).forEach(function (field) {
      // Fields kept before (e.g. before a save the server refused, whose page shows them as if
      // unchanged) stay kept; others once they differ from what the page was loaded with.
      if (field.value !== initialValue(field) ||
          (previous && Object.prototype.hasOwnProperty.call(previous.fields, field.name))) {
        fields[field.name] = field.value;
        kept++;
      }
    });
    if (!kept) {
      if (previous) remove(this.key);
      return;
    }
    write(this.key, {
      savedAt: Date.now(),
      savedToken: this.savedToken,
      submittedAt: previous && previous.submittedAt,
      fields: fields,
    });
  };

  AutosavedForm.prototype.submitted = function () {
    if (this.waitingForChoice) return; // the older copy is not what is being sent: it stays
    this.saveNow();
    var entry = read(this.key);
    if (!entry) return;
    entry.submittedAt = Date.now();
    write(this.key, entry);
    session.setItem(SUBMITTED, this.key);
  };

  AutosavedForm.prototype.offer = function (entry) {
    var self = this;
    var when = formatTime(entry.savedAt, this.timeZone, this.language);
    var restore = this.notice.querySelector(".autosave-restore");
    var discard = this.notice.querySelector(".autosave-discard");
    restore.textContent = format(this.notice.getAttribute("data-restore-label"), { time: when });
    this.waitingForChoice = true;
    this.notice.hidden = false;
    restore.addEventListener("click", function () { self.restore(entry, when); });
    discard.addEventListener("click", function () { self.discard(); });
  };

  AutosavedForm.prototype.restore = function (entry, when) {
    var first = null;
    editableFields(this.form).forEach(function (field) {
      if (!Object.prototype.hasOwnProperty.call(entry.fields, field.name)) return;
      if (field.value === entry.fields[field.name]) return;
      field.value = entry.fields[field.name];
      // The Markdown editor refreshes its preview, the admin's widgets their state.
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
      first = first || field;
    });
    this.waitingForChoice = false;
    this.notice.querySelector(".autosave-actions").hidden = true;
    this.notice.querySelector(".autosave-message").textContent =
      format(this.notice.getAttribute("data-restored-message"), { time: when });
    this.saveNow();
    if (first) first.focus();
  };

  AutosavedForm.prototype.discard = function () {
    this.waitingForChoice = false;
    remove(this.key);
    this.notice.hidden = true;
    var fields = editableFields(this.form);
    if (fields.length) fields[0].focus();
  };

  /* Copies nobody came back for (the object was deleted, the editor never returned) do not pile up. */
  function forgetOldCopies() {
    var now = Date.now();
    for (var i = storage.length - 1; i >= 0; i--) {
      var name = storage.key(i);
      if (name && name.indexOf(PREFIX) === 0) {
        var entry = read(name.slice(PREFIX.length));
        if (!entry || !(now - entry.savedAt < MAX_AGE)) storage.removeItem(name);
      }
    }
  }

  /* The page after a save: the admin says it succeeded, so the copy of what was sent can go. */
  function forgetSavedForm() {
    var key = session.getItem(SUBMITTED);
    if (key && document.querySelector(".messagelist .success")) {
      remove(key);
      session.removeItem(SUBMITTED);
    }
  }

  function start() {
    forgetOldCopies();
    forgetSavedForm();
    var notice = document.querySelector(".autosave-notice[data-autosave-key]");
    if (notice && notice.closest("form")) new AutosavedForm(notice).start();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  } else {
    start();
  }
})();
