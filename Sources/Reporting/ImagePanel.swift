import Foundation

/// A 2D greyscale image to show: values (HU for CT) row by row, top row first, with the physical
/// size of its pixels so that panels keep true proportions.
public struct SliceImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixelWidthMM: Double
    public var pixelHeightMM: Double
    public var values: [Float]

    public init(width: Int, height: Int, pixelWidthMM: Double, pixelHeightMM: Double, values: [Float]) {
        precondition(values.count == width * height, "SliceImage: \(values.count) values for \(width)x\(height)")
        self.width = width; self.height = height
        self.pixelWidthMM = pixelWidthMM; self.pixelHeightMM = pixelHeightMM
        self.values = values
    }

    public var widthMM: Double { Double(width) * pixelWidthMM }
    public var heightMM: Double { Double(height) * pixelHeightMM }
}

/// A grey-level window (centre and width, in the image's units); `inverted` draws high values dark
/// (the usual display of PET: hot lesions black on white).
public struct DisplayWindow: Sendable, Hashable {
    public var name: String
    public var centre: Double
    public var width: Double
    public var inverted: Bool

    public init(name: String, centre: Double, width: Double, inverted: Bool = false) {
        self.name = name; self.centre = centre; self.width = width; self.inverted = inverted
    }

    public static let softTissue = DisplayWindow(name: "soft tissue", centre: 40, width: 400)
    public static let lung = DisplayWindow(name: "lung", centre: -600, width: 1500)
    public static let bone = DisplayWindow(name: "bone", centre: 400, width: 1800)
    /// For maximum-intensity projections of CT: bone and contrast bright, soft tissue grey.
    public static let projection = DisplayWindow(name: "MIP", centre: 250, width: 1300)
    /// For FDG PET in body-weight SUV: 0 (white) to 8 (black), inverted as PET is usually read; the liver
    /// (SUV about 2) is light grey, lesions of SUV 8 and above black.
    public static let suv = DisplayWindow(name: "SUV 0-8, inverted", centre: 4, width: 8, inverted: true)
}

/// A region outlined on an image: a pixel mask of the image's size, drawn along pixel edges.
public struct Outline: Sendable {
    public var mask: [Bool]
    public var colour: String
    public var label: String?
    public var dashed: Bool
    public var lineWidth: Double

    public init(mask: [Bool], colour: String, label: String? = nil, dashed: Bool = false, lineWidth: Double = 2) {
        self.mask = mask; self.colour = colour; self.label = label; self.dashed = dashed; self.lineWidth = lineWidth
    }
}

/// An image with outlines and labels, rendered as a PNG (bilinear, at twice the display size for
/// print) under an SVG overlay in millimetres.
public struct ImagePanel: Sendable {
    public var image: SliceImage
    public var window: DisplayWindow
    public var outlines: [Outline]
    /// Patient directions at the left, right, top and bottom edges (e.g. "R", "L", "S", "I").
    public var directions: (left: String, right: String, top: String, bottom: String)
    public var caption: String
    /// Text alternative of the image.
    public var alt: String

    public init(image: SliceImage, window: DisplayWindow, outlines: [Outline],
                directions: (left: String, right: String, top: String, bottom: String), caption: String, alt: String) {
        for o in outlines { precondition(o.mask.count == image.values.count, "outline mask of another size") }
        self.image = image; self.window = window; self.outlines = outlines; self.directions = directions
        self.caption = caption; self.alt = alt
    }

    /// The panel as an HTML figure at most `displayWidth` CSS pixels wide (narrower when its container is).
    public func html(displayWidth: Double) -> String {
        let w = displayWidth
        let h = (w * image.heightMM / image.widthMM).rounded()
        let png = PNG.grey(width: Int(2 * w), height: Int(2 * h), pixels: raster(width: Int(2 * w), height: Int(2 * h)))
        let mmPerPx = image.widthMM / w
        var s = "<figure class=\"panel\" style=\"max-width:\(Int(w))px\"><div class=\"imgwrap\" style=\"aspect-ratio:\(Int(w))/\(Int(h))\">"
        s += "<img src=\"\(PNG.dataURI(png))\" width=\"\(Int(w))\" height=\"\(Int(h))\" alt=\"\(htmlEscape(alt))\" "
        s += "onload=\"this.dataset.loaded='yes'\" onerror=\"this.dataset.loaded='no'\">"
        s += "<svg class=\"overlay\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f2(image.widthMM)) \(f2(image.heightMM))\" preserveAspectRatio=\"none\" font-family=\"Helvetica, Arial, sans-serif\">"
        for o in outlines {
            s += "<path d=\"\(edgePath(o.mask))\" fill=\"none\" stroke=\"\(o.colour)\" stroke-width=\"\(f2(o.lineWidth))\" vector-effect=\"non-scaling-stroke\""
            s += (o.dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>"
        }
        s += labels(mmPerPx: mmPerPx)
        s += scaleBar(mmPerPx: mmPerPx)
        let fs = 12 * mmPerPx, pad = 4 * mmPerPx
        let style = "fill=\"#ffd54f\" font-size=\"\(f2(fs))\" font-weight=\"bold\""
        s += "<text x=\"\(f2(pad))\" y=\"\(f2(image.heightMM / 2))\" \(style)>\(htmlEscape(directions.left))</text>"
        s += "<text x=\"\(f2(image.widthMM - pad))\" y=\"\(f2(image.heightMM / 2))\" text-anchor=\"end\" \(style)>\(htmlEscape(directions.right))</text>"
        s += "<text x=\"\(f2(image.widthMM / 2))\" y=\"\(f2(pad + fs))\" text-anchor=\"middle\" \(style)>\(htmlEscape(directions.top))</text>"
        s += "<text x=\"\(f2(image.widthMM / 2))\" y=\"\(f2(image.heightMM - pad))\" text-anchor=\"middle\" \(style)>\(htmlEscape(directions.bottom))</text>"
        s += "</svg></div><figcaption>\(htmlEscape(caption))</figcaption></figure>"
        return s
    }

    /// Windowed grey levels resampled bilinearly to `width` x `height` pixels.
    func raster(width: Int, height: Int) -> [UInt8] {
        let lo = window.centre - window.width / 2
        let scale = 255 / window.width
        let sw = image.width, sh = image.height
        var out = [UInt8](repeating: 0, count: width * height)
        for v in 0..<height {
            let sy = min(max((Double(v) + 0.5) / Double(height) * Double(sh) - 0.5, 0), Double(sh - 1))
            let y0 = Int(sy), y1 = min(y0 + 1, sh - 1), fy = sy - Double(y0)
            for u in 0..<width {
                let sx = min(max((Double(u) + 0.5) / Double(width) * Double(sw) - 0.5, 0), Double(sw - 1))
                let x0 = Int(sx), x1 = min(x0 + 1, sw - 1), fx = sx - Double(x0)
                let a = Double(image.values[y0 * sw + x0]), b = Double(image.values[y0 * sw + x1])
                let c = Double(image.values[y1 * sw + x0]), d = Double(image.values[y1 * sw + x1])
                let value = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
                let g = value.isFinite ? (value - lo) * scale : 0
                let level = min(max(g, 0), 255).rounded()
                out[v * width + u] = UInt8(window.inverted ? 255 - level : level)
            }
        }
        return out
    }

    /// Every edge between an inside and an outside pixel, as runs of horizontal and vertical segments (mm).
    func edgePath(_ mask: [Bool]) -> String {
        let w = image.width, h = image.height
        let pw = image.pixelWidthMM, ph = image.pixelHeightMM
        func inside(_ i: Int, _ j: Int) -> Bool { i >= 0 && j >= 0 && i < w && j < h && mask[j * w + i] }
        var d = ""
        for j in 0...h {
            var i = 0
            while i < w {
                guard inside(i, j - 1) != inside(i, j) else { i += 1; continue }
                let start = i
                while i < w && inside(i, j - 1) != inside(i, j) { i += 1 }
                d += "M\(f2(Double(start) * pw)) \(f2(Double(j) * ph))H\(f2(Double(i) * pw))"
            }
        }
        for i in 0...w {
            var j = 0
            while j < h {
                guard inside(i - 1, j) != inside(i, j) else { j += 1; continue }
                let start = j
                while j < h && inside(i - 1, j) != inside(i, j) { j += 1 }
                d += "M\(f2(Double(i) * pw)) \(f2(Double(start) * ph))V\(f2(Double(j) * ph))"
            }
        }
        return d
    }

    /// Labels beside each labelled outline, moved so that they do not overlap one another.
    private func labels(mmPerPx: Double) -> String {
        let fs = 12 * mmPerPx
        // The direction letters at the middle of each edge are kept clear.
        let (W, H) = (image.widthMM, image.heightMM)
        var placed: [(x0: Double, y0: Double, x1: Double, y1: Double)] = [
            (0, H / 2 - fs, 2 * fs, H / 2 + 0.3 * fs), (W - 2 * fs, H / 2 - fs, W, H / 2 + 0.3 * fs),
            (W / 2 - fs, 0, W / 2 + fs, 1.5 * fs), (W / 2 - fs, H - 1.5 * fs, W / 2 + fs, H),
        ]
        var s = ""
        for o in outlines {
            guard let label = o.label, let box = bounds(o.mask) else { continue }
            let tw = Double(label.count) * fs * 0.75, th = fs
            let pw = image.pixelWidthMM, ph = image.pixelHeightMM
            let gap = 2 * mmPerPx
            // Right of the box, left of it, above, below; each then nudged down if it collides.
            let candidates: [(Double, Double)] = [
                (Double(box.maxX + 1) * pw + gap, Double(box.minY) * ph + th),
                (Double(box.minX) * pw - gap - tw, Double(box.minY) * ph + th),
                (Double(box.minX) * pw, Double(box.minY) * ph - gap),
                (Double(box.minX) * pw, Double(box.maxY + 1) * ph + th + gap),
            ]
            func fits(_ x: Double, _ y: Double) -> Bool {
                x >= 0 && x + tw <= image.widthMM && y - th >= 0 && y <= image.heightMM
                    && !placed.contains { x < $0.x1 && x + tw > $0.x0 && y - th < $0.y1 && y > $0.y0 }
            }
            var chosen: (Double, Double)?
            search: for step in 0..<12 {
                for (x, y) in candidates where fits(x, y + Double(step) * th) {
                    chosen = (x, y + Double(step) * th)
                    break search
                }
            }
            let (x, y) = chosen ?? (min(max(candidates[0].0, 0), image.widthMM - tw), min(max(candidates[0].1, th), image.heightMM))
            placed.append((x, y - th, x + tw, y))
            s += "<text x=\"\(f2(x))\" y=\"\(f2(y - 0.15 * th))\" font-size=\"\(f2(fs))\" font-weight=\"bold\" fill=\"\(o.colour)\" stroke=\"#000\" stroke-width=\"\(f2(2.4 * mmPerPx))\" paint-order=\"stroke\" stroke-linejoin=\"round\">\(htmlEscape(label))</text>"
        }
        return s
    }

    private func bounds(_ mask: [Bool]) -> (minX: Int, minY: Int, maxX: Int, maxY: Int)? {
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        for (n, v) in mask.enumerated() where v {
            let x = n % image.width, y = n / image.width
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
        }
        return maxX < 0 ? nil : (minX, minY, maxX, maxY)
    }

    /// A white bar of a round length (5, 10, 20, 50 or 100 mm) in the lower left corner.
    private func scaleBar(mmPerPx: Double) -> String {
        let target = image.widthMM / 5
        let length = [5.0, 10, 20, 50, 100].last { $0 <= target } ?? 5
        let x = 6 * mmPerPx, y = image.heightMM - 8 * mmPerPx
        return "<path d=\"M\(f2(x)) \(f2(y))H\(f2(x + length))\" stroke=\"#fff\" stroke-width=\"3\" vector-effect=\"non-scaling-stroke\"/>"
            + "<text x=\"\(f2(x + length + 3 * mmPerPx))\" y=\"\(f2(y + 4 * mmPerPx))\" font-size=\"\(f2(10 * mmPerPx))\" fill=\"#fff\">\(Int(length)) mm</text>"
    }
}

private func f2(_ v: Double) -> String { String(format: "%.2f", v) }
