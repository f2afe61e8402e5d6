// The teller's form: show the known-incident box of the production system chosen, and only that one.
(function () {
  "use strict";
  var select = document.getElementById("id_system");
  if (!select) { return; }
  function show() {
    document.querySelectorAll(".known-incident[data-system]").forEach(function (box) {
      box.hidden = box.getAttribute("data-system") !== select.value;
    });
  }
  select.addEventListener("change", show);
  show();
}());
