// The few-shot classifier tab's browser side, put into the page's <head> by metademo.ui.app (inlined: the app
// serves no files of its own). The Python side calls these helpers from its events' js= hooks
// (metademo/ui/classifier.py): metademoGrab takes the live webcam's current frame (unmirrored) as a data URL;
// metademoClearPad presses the pad's own bin button (clearing the pad from the server in Gradio 6.31 leaves it
// unable to send later drawings); metademoPadFrame is the live preview's small copy of the pad.
window.metademoGrab = () => {
    const v = document.querySelector('#webcam video');
    if (!v || !v.videoWidth || v.readyState < 2) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    c.getContext('2d').drawImage(v, 0, 0);
    return c.toDataURL('image/jpeg', 0.92);
};
// metademoSave presses the hidden download button once the server has written the file (one click to save).
window.metademoSave = () => {
    const b = document.querySelector('#download-file');
    if (b) (b.tagName === 'BUTTON' ? b : b.querySelector('button') || b).click();
};
window.metademoClearPad = () => {
    const b = document.querySelector('#sketchpad button[aria-label="Clear canvas"]');
    if (b) b.click();
};
// The live preview keeps its own small copy of the pad: the pointer's strokes, redrawn at 128x128 in
// black on white, sent (as a PNG data URL of about 1 kB) while drawing and at the end of each stroke.
// Waiting for the pad's own export and upload of its full-size image would take about a second. No frame
// goes in a stroke's first EVERY ms: the server answers one frame at a time, so a frame of a quick
// stroke's first points would only delay the one sent at its end.
(() => {
    const SIZE = 128, PAD = 300, BRUSH = 10, EVERY = 120;  // canvas_size and brush of the Sketchpad (metademo/ui/classifier.py)
    const strokes = [];
    let current = null, lastSent = 0, strokeStart = 0;
    const onPad = (e) => e.target && e.target.closest && e.target.closest('#sketchpad canvas');
    const point = (e, el) => {
        const r = el.getBoundingClientRect();
        return [(e.clientX - r.left) / r.width * SIZE, (e.clientY - r.top) / r.height * SIZE];
    };
    window.metademoPadFrame = () => {
        if (!strokes.length) return null;
        const c = document.createElement('canvas');
        c.width = SIZE; c.height = SIZE;
        const g = c.getContext('2d');
        g.fillStyle = 'white'; g.fillRect(0, 0, SIZE, SIZE);
        g.strokeStyle = 'black'; g.fillStyle = 'black';
        g.lineWidth = BRUSH / PAD * SIZE; g.lineCap = 'round'; g.lineJoin = 'round';
        for (const s of strokes) {
            g.beginPath(); g.moveTo(s[0][0], s[0][1]);
            for (const [x, y] of s.slice(1)) g.lineTo(x, y);
            if (s.length === 1) g.lineTo(s[0][0] + 0.01, s[0][1]);
            g.stroke();
        }
        return c.toDataURL('image/png');
    };
    window.metademoPreviewTimes = [];
    const send = () => {
        const b = document.querySelector('#pad-preview');
        if (!b) return;
        lastSent = performance.now();
        window.metademoPreviewSent = window.metademoPreviewSent || lastSent;  // the oldest frame not answered
        b.click();
    };
    document.addEventListener('pointerdown', (e) => {
        const el = onPad(e);
        if (!el) return;
        current = [point(e, el)];
        strokes.push(current);
        strokeStart = performance.now();
    }, true);
    document.addEventListener('pointermove', (e) => {
        const el = onPad(e);
        if (!current || !el) return;
        current.push(point(e, el));
        const now = performance.now();
        if (now - lastSent > EVERY && now - strokeStart > EVERY) send();
    }, true);
    document.addEventListener('pointerup', () => {
        if (!current) return;
        current = null;
        send();
    }, true);
    document.addEventListener('click', (e) => {
        const b = e.target && e.target.closest && e.target.closest('#sketchpad button');
        if (!b) return;
        const what = b.getAttribute('aria-label') || '';
        if (what === 'Clear canvas') strokes.length = 0;
        else if (what === 'Undo') strokes.pop();
        else return;
        // The bars follow the pad: an empty pad sends no frame, and the server answers with no bars.
        setTimeout(send, 0);
    }, true);
    // Round trips as the browser sees them, from sending a frame to new bars (for the tests and the README):
    // [since the oldest frame not yet answered, since the newest], the answer's true age lies between.
    const bars = (live) => live.innerText.split('\n').filter((line) => !/^[0-9.]+s$/.test(line.trim())).join('\n');
    const watch = () => {
        const live = document.querySelector('#live-preview');
        if (!live) return setTimeout(watch, 500);
        let shown = bars(live);
        new MutationObserver(() => {
            const now = bars(live);
            if (now === shown) return;  // the status timer ticked, the bars did not change
            shown = now;
            if (window.metademoPreviewSent) {  // since the oldest and the newest frame not yet answered
                const t = performance.now();
                window.metademoPreviewTimes.push([t - window.metademoPreviewSent, t - lastSent]);
                window.metademoPreviewSent = null;
            }
        }).observe(live, {childList: true, subtree: true, characterData: true});
    };
    watch();
})();

// Gradio's drawing pad starts, and restarts after it is cleared, with no tool chosen ("select the draw tool to
// start"). This picks the brush whenever neither brush nor eraser is chosen. Purely cosmetic: if the buttons are
// not found (another Gradio version, another language), it does nothing.
(() => {
    let off = 0;
    setInterval(() => {
        const pad = document.querySelector('#sketchpad');
        const brush = pad && pad.querySelector('button[aria-label="Brush"]');
        if (!brush || !pad.querySelector('canvas')) return;
        const eraser = pad.querySelector('button[aria-label="Erase"]');
        const chosen = brush.classList.contains('highlight') || (eraser && eraser.classList.contains('highlight'));
        off = chosen ? 0 : off + 1;
        if (off >= 3) { brush.click(); off = 0; }  // unchosen for a moment: the pad has finished (re)starting
    }, 200);
})();

// Gradio labels its empty placeholders with aria-label on a plain <div>, which assistive technology ignores
// (axe-core: aria-prohibited-attr). Giving each such <div> the role of an image makes the label count.
(() => {
    const fix = () => document.querySelectorAll('div.empty[aria-label]:not([role])').forEach((d) => d.setAttribute('role', 'img'));
    new MutationObserver(fix).observe(document.documentElement, {childList: true, subtree: true});
    fix();
})();

// The navigation field is an image a click selects a point of: Gradio draws it as a <button> with no name
// (axe-core: button-name). Its name says what a click does.
(() => {
    const fix = () => document.querySelectorAll('#nav-field button:not([aria-label])').forEach(
        (b) => b.setAttribute('aria-label', 'The field: click to place the hidden goal'));
    new MutationObserver(fix).observe(document.documentElement, {childList: true, subtree: true});
    fix();
})();
