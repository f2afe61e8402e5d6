/* The request-type field editor (admin): a live preview of the teller's form while the rows are
   edited, beside the preview of the form as saved. Reads the rows only; nothing is sent. */
(function () {
  "use strict";
  var KINDS = {text: "text", integer: "number", date: "date", datetime: "datetime-local"};

  function value(row, name) {
    var el = row.querySelector("[name$='-" + name + "']");
    if (!el) { return ""; }
    return el.type === "checkbox" ? el.checked : el.value.trim();
  }

  function control(row) {
    var kind = value(row, "kind"), el;
    if (kind === "textarea") {
      el = document.createElement("textarea");
      el.rows = 2;
    } else if (kind === "choice") {
      el = document.createElement("select");
      value(row, "choices").split("\n").forEach(function (line) {
        if (!line.trim()) { return; }
        var option = document.createElement("option");
        var parts = line.split("|");
        option.textContent = (parts.length > 1 ? parts.slice(1).join("|") : parts[0]).trim();
        el.appendChild(option);
      });
    } else {
      el = document.createElement("input");
      el.type = KINDS[kind] || "text";
    }
    el.disabled = true;
    return el;
  }

  function draw(editor, target) {
    var rows = Array.prototype.slice.call(editor.querySelectorAll("tr.field-row"));
    var shown = rows.filter(function (row) { return value(row, "label") && !value(row, "DELETE"); });
    shown.sort(function (a, b) { return (Number(value(a, "order")) || 0) - (Number(value(b, "order")) || 0); });
    target.textContent = "";
    shown.forEach(function (row) {
      var p = document.createElement("p");
      var label = document.createElement("label");
      label.textContent = value(row, "label") + (value(row, "required") ? " *" : "");
      p.appendChild(label);
      p.appendChild(document.createTextNode(" "));
      p.appendChild(control(row));
      target.appendChild(p);
    });
    target.setAttribute("data-fields", String(shown.length));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var editor = document.getElementById("field-editor");
    var target = document.getElementById("field-preview-live");
    if (!editor || !target) { return; }
    editor.addEventListener("input", function () { draw(editor, target); });
    editor.addEventListener("change", function () { draw(editor, target); });
    draw(editor, target);
  });
})();
