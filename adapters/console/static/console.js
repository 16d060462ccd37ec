// Progressive enhancement only: every page works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // On a track's rules, a rule left to the program cannot be edited until it is overridden.
  for (const box of document.querySelectorAll("input.override")) {
    const fieldset = box.closest("fieldset");
    const sync = () => {
      fieldset.classList.toggle("inherited", !box.checked);
      for (const input of fieldset.querySelectorAll("input:not(.override), select")) {
        if (input.type !== "hidden") input.disabled = !box.checked;
      }
    };
    box.addEventListener("change", sync);
    sync();
  }
  // "Select everyone shown" on the people page.
  const all = document.querySelector("input#select-all");
  if (all) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll("input[name=person]")) box.checked = all.checked;
    });
  }
});
