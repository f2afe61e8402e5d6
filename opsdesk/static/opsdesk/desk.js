/* Behaviour every page shares, as a file: the Content-Security-Policy allows no inline script or
   on…= handler. The language selector in the top bar sends its form when a language is chosen. */
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
