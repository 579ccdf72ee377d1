/* Video FAQ player: #t=SECONDS seeking, clickable transcript, current-cue highlight, and
 * video_play / video_progress events through window.KbEvents when the site loads it.
 * No dependencies; works without it too (native controls, captions and links still work). */
(function () {
  "use strict";

  var MILESTONES = [25, 50, 75, 100];

  /* "#t=75", "#t=75.5", "#t=1:15", "#t=1:02:03" -> seconds, else null. */
  function hashTime(hash) {
    var m = /(?:^#|[#&])t=([0-9:.]+)/.exec(hash || "");
    if (!m) return null;
    var parts = m[1].split(":"), total = 0;
    for (var i = 0; i < parts.length; i++) {
      var n = parseFloat(parts[i]);
      if (isNaN(n) || n < 0) return null;
      total = total * 60 + n;
    }
    return total;
  }

  function track(name, props) {
    var events = window.KbEvents;
    if (events && typeof events.track === "function") {
      try { events.track(name, props); } catch (e) { /* analytics never breaks the player */ }
    }
  }

  function seek(video, seconds) {
    var apply = function () {
      var end = isFinite(video.duration) ? Math.max(0, video.duration - 0.1) : seconds;
      video.currentTime = Math.min(seconds, end);
    };
    if (video.readyState >= 1) apply();
    else video.addEventListener("loadedmetadata", apply, { once: true });
  }

  function setup(root) {
    if (root.getAttribute("data-kb-ready")) return;
    root.setAttribute("data-kb-ready", "1");
    var video = root.querySelector("video");
    if (!video) return;
    var id = root.getAttribute("data-kb-video");
    var page = root.closest("article") || document;
    var cues = Array.prototype.slice.call(page.querySelectorAll(".kb-video__cues li[data-start]"));
    var played = false, reached = {};

    // Captions on by default: the language asked for by ?captions=bn (links from a Bengali
    // article), else the <track default>. Its transcript is opened too.
    var wanted = (/[?&]captions=([a-zA-Z-]+)/.exec(location.search) || [])[1];
    var tracks = video.textTracks || [];
    var chosen = null;
    for (var i = 0; i < tracks.length; i++) {
      if (tracks[i].kind !== "captions" && tracks[i].kind !== "subtitles") continue;
      if (chosen === null || (wanted && tracks[i].language === wanted)) chosen = tracks[i];
    }
    for (var j = 0; j < tracks.length; j++) {
      if (tracks[j].kind === "captions" || tracks[j].kind === "subtitles") {
        tracks[j].mode = tracks[j] === chosen ? "showing" : "disabled";
      }
    }
    if (chosen && wanted === chosen.language) {
      var details = page.querySelector('details[data-kb-transcript="' + chosen.language + '"]');
      if (details) details.open = true;
    }

    var start = hashTime(location.hash);
    if (start !== null) seek(video, start);
    window.addEventListener("hashchange", function () {
      var t = hashTime(location.hash);
      if (t !== null) seek(video, t);
    });

    page.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("[data-kb-seek]") : null;
      if (!link || !page.contains(link)) return;
      var t = parseFloat(link.getAttribute("data-kb-seek"));
      if (isNaN(t)) return;
      event.preventDefault();
      if (history.replaceState) history.replaceState(null, "", "#t=" + link.getAttribute("data-kb-seek"));
      seek(video, t);
      var playing = video.play();
      if (playing && playing.catch) playing.catch(function () {});
    });

    video.addEventListener("play", function () {
      if (played) return;
      played = true;
      track("video_play", { video: id, url: location.pathname });
    });

    function progress(percent) {
      for (var i = 0; i < MILESTONES.length; i++) {
        var m = MILESTONES[i];
        if (percent >= m && !reached[m]) {
          reached[m] = true;
          track("video_progress", { video: id, percent: m });
        }
      }
    }

    var active = null;
    video.addEventListener("timeupdate", function () {
      var t = video.currentTime;
      if (isFinite(video.duration) && video.duration > 0 && !video.seeking && played) {
        progress(t >= video.duration - 0.25 ? 100 : (t / video.duration) * 100);
      }
      var current = null;
      for (var i = 0; i < cues.length; i++) {
        var s = parseFloat(cues[i].getAttribute("data-start"));
        var e = parseFloat(cues[i].getAttribute("data-end"));
        if (t >= s && t < e && cues[i].offsetParent !== null) { current = cues[i]; break; }
      }
      if (current === active) return;
      if (active) { active.classList.remove("kb-video__cue--active"); active.removeAttribute("aria-current"); }
      active = current;
      if (active) {
        active.classList.add("kb-video__cue--active");
        active.setAttribute("aria-current", "true");
        var box = active.closest(".kb-video__cues");
        if (box && box.scrollHeight > box.clientHeight) {
          box.scrollTop = active.offsetTop - box.offsetTop - box.clientHeight / 3;
        }
      }
    });
    video.addEventListener("ended", function () { if (played) progress(100); });
  }

  // On a focused player, the arrows skip 5 seconds and Home/End jump to the ends. Browsers
  // disagree here (Chromium nudges by 1 % of the length, only from the timeline), so we take
  // these keys in the capture phase, before the native controls see them. Space stays native.
  function onKey(event) {
    var video = event.target;
    if (!video || video.tagName !== "VIDEO" || !video.closest(".kb-video")) return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var end = isFinite(video.duration) ? video.duration : Infinity;
    var to = null;
    if (event.key === "ArrowRight") to = Math.min(end, video.currentTime + 5);
    else if (event.key === "ArrowLeft") to = Math.max(0, video.currentTime - 5);
    else if (event.key === "Home") to = 0;
    else if (event.key === "End" && isFinite(end)) to = end;
    if (to === null) return;
    event.preventDefault();
    event.stopPropagation();
    video.currentTime = to;
  }

  function init() {
    var roots = document.querySelectorAll(".kb-video[data-kb-video]");
    for (var i = 0; i < roots.length; i++) setup(roots[i]);
  }

  window.KbVideo = { hashTime: hashTime, init: init };
  window.addEventListener("keydown", onKey, true);
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init); // Material's instant navigation
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
