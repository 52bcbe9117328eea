package org.finetune4j.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Base64;
import java.util.Locale;

/**
 * Small pieces of the report page: escaping, number formatting, the page frame with its inline
 * style sheet. The page loads nothing: its Content-Security-Policy allows only inline style and
 * {@code data:} images, so it opens offline and no script runs even if some text were left unescaped.
 */
final class Html {
    private Html() {
    }

    /** Escapes text for element content and quoted attribute values. */
    static String escape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * A metric or measurement: four decimals for values near 1 (metrics, losses), thousands
     * separators for large ones (throughput), scientific for small ones (learning rates).
     */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "∞" : "−∞";
        }
        double a = Math.abs(v);
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%,.1f", v);
        }
        if (a >= 1e-3 || a == 0) {
            return String.format(Locale.ROOT, "%.4f", v);
        }
        return String.format(Locale.ROOT, "%.2e", v);
    }

    static String integer(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%,d", Math.round(v)) : number(v);
    }

    /**
     * A share or size that can be far below 1: a frozen backbone trains 0.0023 % of the parameters and
     * saves 0.01 MB, which two fixed decimals would show as 0.00.
     */
    static String small(double v) {
        if (!Double.isFinite(v) || v == 0 || Math.abs(v) >= 1) {
            return fixed(v, 2);
        }
        return new BigDecimal(v).round(new MathContext(2)).stripTrailingZeros().toPlainString();
    }

    static String fixed(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%,." + decimals + "f", v) : number(v);
    }

    /** A chart: shown from a {@code data:} URI (self-contained), captioned with the PNG file written beside the report. */
    static String figure(String file, String alt, byte[] png, int width, int height) {
        String wide = width > Charts.WIDTH + 20 ? " class=\"wide\"" : "";
        return "<figure" + wide + "><img src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(png)
                + "\" width=\"" + width + "\" height=\"" + height + "\" alt=\"" + escape(alt) + "\">"
                + "<figcaption>" + escape(file) + "</figcaption></figure>\n";
    }

    static String note(String text) {
        return "<p class=\"note\">" + escape(text) + "</p>\n";
    }

    static String page(String title, String header, String nav, String body) {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                + "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<meta name=\"generator\" content=\"finetune4j\">\n"
                + "<title>" + escape(title) + "</title>\n<style>\n" + CSS + "</style>\n</head>\n<body>\n"
                + "<header><div class=\"wrap\">\n" + header + "</div></header>\n"
                + "<nav><div class=\"wrap\">" + nav + "</div></nav>\n"
                + "<main class=\"wrap\">\n" + body + "</main>\n"
                + "<footer class=\"wrap\">Written by finetune4j. The charts are embedded in this page and also saved as PNG files beside it.</footer>\n"
                + "</body>\n</html>\n";
    }

    /** Two 540 px chart columns fit the 1160 px page; below that the grid falls to one column. */
    private static final String CSS = """
            :root { --fg: #1f2328; --muted: #59636e; --line: #d8dee4; --bg: #f6f8fa; --accent: #4e79a7; }
            * { box-sizing: border-box; }
            body { margin: 0; color: var(--fg); background: #fff;
                   font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
            .wrap { max-width: 1160px; margin: 0 auto; padding: 0 24px; }
            header { background: var(--bg); border-bottom: 1px solid var(--line); padding: 22px 0 20px; }
            h1 { font-size: 26px; margin: 0 0 2px; overflow-wrap: anywhere; }
            .sub { color: var(--muted); margin: 0 0 16px; }
            .sub b { color: var(--fg); font-weight: 600; }
            .cards { display: flex; flex-wrap: wrap; gap: 12px; }
            .card { background: #fff; border: 1px solid var(--line); border-top: 3px solid var(--accent);
                    border-radius: 6px; padding: 8px 16px 10px; min-width: 140px; }
            .card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
            .card .v { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
            .card .d { color: var(--muted); font-size: 12px; }
            nav { border-bottom: 1px solid var(--line); font-size: 14px; }
            nav a { display: inline-block; padding: 8px 12px 8px 0; color: var(--accent); text-decoration: none; }
            section { padding: 18px 0 22px; border-bottom: 1px solid var(--line); }
            h2 { font-size: 19px; margin: 0 0 12px; }
            h3 { font-size: 15px; margin: 18px 0 8px; }
            .grid h3:first-child { margin-top: 0; }
            table + pre { margin-top: 16px; }
            .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 24px; align-items: start; }
            .grid + table, .grid + .note, table + .note { margin-top: 16px; }
            figure { margin: 0; }
            figure.wide { grid-column: 1 / -1; }
            figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; display: block; }
            figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
            table { border-collapse: collapse; font-size: 14px; }
            th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
            th { background: var(--bg); font-weight: 600; white-space: nowrap; }
            .scroll { overflow-x: auto; }
            table.wide-head th { white-space: normal; vertical-align: bottom; }
            table.compact th, table.compact td { padding: 5px 8px; }
            td.wrap { overflow-wrap: anywhere; }
            .grid > * { min-width: 0; }
            .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            td.text { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 680px; }
            td.best { font-weight: 700; }
            table.cm td.num { min-width: 64px; }
            table.cm th.corner { font-weight: 400; color: var(--muted); }
            pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; overflow-x: auto;
                  font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
            details summary { cursor: pointer; color: var(--accent); }
            .note { color: #5c4a00; background: #fff8e1; border-left: 3px solid #f2c94c; padding: 8px 12px; margin: 8px 0; }
            footer { color: var(--muted); font-size: 12px; padding-top: 16px; padding-bottom: 32px; }
            """;
}
