#!/usr/bin/env python3
"""Writes support_tickets.csv, finetune4j's own example dataset (no public data is copied).

Short customer-support messages in three classes (billing, delivery, technical), made from
hand-written templates and slot values with a fixed seed, so the file is reproducible:
    python3 examples/make_support_tickets.py > finetune4j-core/src/main/resources/finetune4j/examples/support_tickets.csv
"""
import csv
import random
import sys

random.seed(20261124)

SLOTS = {
    "product": ["laptop", "phone", "headphones", "coffee machine", "desk lamp", "router", "smart watch", "blender",
                "keyboard", "camera", "tablet", "printer", "vacuum cleaner", "monitor", "speaker"],
    "amount": ["$12.99", "$49", "$120", "$7.50", "$299", "$35", "$18.40", "$89.99", "$64", "$5"],
    "month": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"],
    "days": ["two", "three", "five", "ten", "several", "four", "six"],
    "app": ["the app", "the mobile app", "your website", "the desktop client", "the dashboard", "the browser extension"],
    "error": ["error 500", "a blank screen", "error code E42", "a timeout", "an unknown error", "error 403",
              "a spinning wheel forever", "a crash report"],
    "city": ["Lyon", "Denver", "Osaka", "Leeds", "Porto", "Austin", "Krakow", "Perth", "Ghent", "Quebec"],
    "carrier": ["the courier", "the delivery driver", "the post office", "the carrier"],
}

TEMPLATES = {
    "billing": [
        "I was charged twice for my {product} order",
        "Why is there a {amount} charge on my card from {month}?",
        "Please refund the {amount} you took by mistake",
        "My invoice for {month} shows the wrong amount",
        "How do I update the credit card on my account?",
        "I cancelled my subscription but you still billed me {amount}",
        "Can I get a receipt for the {product} I bought in {month}?",
        "The discount code was not applied and I paid {amount} too much",
        "I want to change from monthly to yearly billing",
        "You charged me {amount} after my free trial ended without warning",
        "My payment keeps getting declined even though my card is fine",
        "When will my refund for the returned {product} arrive?",
        "Is VAT included in the {amount} price?",
        "I need a copy of every invoice since {month} for my accountant",
        "Please remove my saved payment method",
        "The price went up to {amount} without any notice",
        "I paid for express shipping but was billed for it twice",
        "How can I pay by bank transfer instead of card?",
        "My account says payment overdue but I paid on time in {month}",
        "Can you split the {amount} charge across two cards?",
        "I was billed in the wrong currency",
        "The refund of {amount} still has not shown up after {days} days",
        "Why did my plan renew automatically? I want my money back",
        "Please send an invoice with my company name on it",
    ],
    "delivery": [
        "My {product} has not arrived yet, it has been {days} days",
        "The tracking number for my {product} does not work",
        "Can I change the delivery address to {city}?",
        "The package was left at the wrong door",
        "{carrier} says it was delivered but I never got it",
        "My {product} arrived with a broken box and a cracked screen",
        "When will my order ship? I ordered it {days} days ago",
        "Do you deliver to {city}?",
        "The parcel is stuck in customs in {city}",
        "I received someone else's order instead of my {product}",
        "Part of my order is missing, only the {product} came",
        "Can I pick up my {product} from a store in {city} instead?",
        "Tracking has not updated in {days} days",
        "Please hold my package, I am travelling until {month}",
        "{carrier} was rude and refused to bring it upstairs",
        "My order was sent back to the warehouse, can you ship it again?",
        "How long does shipping to {city} usually take?",
        "The box arrived open and the {product} is gone",
        "Can I schedule the delivery for the weekend?",
        "I chose next-day delivery but the {product} took a week",
        "The delivery slot I picked was cancelled without notice",
        "Where is my parcel? The estimate said {month} 3rd",
        "Please stop the shipment, I want to cancel before it leaves",
        "The wrong colour of {product} was delivered",
    ],
    "technical": [
        "{app} crashes every time I open it",
        "I get {error} when I try to log in",
        "My {product} will not connect to wifi after the update",
        "The password reset email never arrives",
        "{app} is very slow since yesterday",
        "How do I pair the {product} with my phone over bluetooth?",
        "The firmware update failed and now the {product} will not turn on",
        "I see {error} on the checkout page of {app}",
        "Two-factor authentication codes are not accepted",
        "The {product} keeps restarting by itself",
        "Sync between {app} and my {product} stopped working",
        "I cannot upload files bigger than a few megabytes in {app}",
        "Notifications from {app} stopped after the last update",
        "The {product} battery drains in an hour",
        "My account is locked after too many login attempts",
        "Dark mode in {app} makes the text unreadable",
        "The {product} shows {error} when starting",
        "How do I factory reset my {product}?",
        "{app} logs me out every few minutes",
        "The search in {app} returns nothing even for exact names",
        "The {product} makes a loud clicking noise and then shuts down",
        "Export to PDF produces {error}",
        "I can not install {app} on my new computer",
        "The touchscreen of my {product} stopped responding",
    ],
}

STYLE = [
    lambda s: s,
    lambda s: s if s.endswith("?") else s + ".",
    lambda s: "Hi, " + s[0].lower() + s[1:],
    lambda s: "Hello! " + s,
    lambda s: s + (" Thanks" if s.endswith("?") else ". Thanks"),
    lambda s: s + (" Please help." if s.endswith("?") else ", please help"),
    lambda s: s if s.endswith("?") else s + "!!",
    lambda s: s.lower(),
]


def fill(template):
    out = template
    for key, values in SLOTS.items():
        while "{" + key + "}" in out:
            out = out.replace("{" + key + "}", random.choice(values), 1)
    return out[0].upper() + out[1:]


def main():
    rows = []
    seen = set()
    for label, templates in TEMPLATES.items():
        n = 0
        while n < 120:
            text = random.choice(STYLE)(fill(random.choice(templates)))
            if text in seen:
                continue
            seen.add(text)
            rows.append((text, label))
            n += 1
    random.shuffle(rows)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["id", "text", "label"])
    for i, (text, label) in enumerate(rows):
        w.writerow([i, text, label])


if __name__ == "__main__":
    main()
