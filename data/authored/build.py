#!/usr/bin/env python3
"""Build the authored comment corpus ``data/authored/comments.jsonl``.

Input: the hand-written texts in ``data/authored/raw/*.jsonl`` (``ham_<lang>.jsonl`` and
``spam_<family>.jsonl``).  Each raw line has at least ``id``, ``content``, ``label``,
``family``, ``lang`` and ``topic``; optional ``author_name``, ``author_url``,
``comment_type`` and ``role`` (``"post_author"`` for the blog owner's own replies).

This script

* synthesises the request metadata that a blog sends to an Akismet-style service
  (author name/e-mail/URL, IP, user agent, referrer, permalink, dates, honeypot, site,
  user role) with *overlapping* ham/spam distributions - tendencies, never absolutes;
* generates an ``obfuscated`` spam family (homoglyphs, zero-width characters, spaced
  letters, leetspeak, HTML entities, full-width forms) from a random subset of the plain
  spam texts, each variant keeping the ``group`` of its source text;
* drops exact-duplicate contents (and contents that occur with both labels), reporting
  every drop;
* writes one JSON object per line with a fixed set of keys, sorted by ``id``.

Everything is derived from ``--seed`` and the raw files through per-item random
generators seeded with strings, so a rebuild gives the same bytes, and adding raw lines
does not reshuffle the metadata of unrelated lines.

Usage::

    python data/authored/build.py                 # rebuild data/authored/comments.jsonl
    python data/authored/build.py --out /tmp/x.jsonl
    python data/authored/build.py --markdown      # also print the data-card tables
"""

from __future__ import annotations

import argparse
import html
import ipaddress
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_RAW = HERE / "raw"
DEFAULT_OUT = HERE / "comments.jsonl"
DEFAULT_SEED = 20261124

COLUMNS = [
    "id",
    "group",
    "label",
    "family",
    "lang",
    "topic",
    "content",
    "author_name",
    "author_email",
    "author_url",
    "user_ip",
    "user_agent",
    "referrer",
    "permalink",
    "comment_type",
    "created_at",
    "post_published_at",
    "honeypot",
    "site",
    "user_role",
]

SPAM_FAMILIES = [
    "seo_link_drop",
    "generic_praise",
    "tech_support_scam",
    "pharma",
    "casino_betting",
    "crypto_investment",
    "essay_writing",
    "adult",
    "fake_followers",
    "loans",
    "copied_offtopic",
    "marketplace",
    "romance_scam",
    "work_from_home",
    "seo_outreach",
]
N_OBFUSCATED = 250
# Share of spam without a link (in its text or raw author URL) typed in by a person.
HAND_POSTED_SHARE = 0.6

# Comments are dated between the first post and this cut-off (all UTC).
EPOCH_START = datetime(2021, 3, 1, tzinfo=UTC)
EPOCH_END = datetime(2026, 11, 15, tzinfo=UTC)

# --------------------------------------------------------------------------------------
# Sites: invented blogs.  topics = the raw ``topic`` values they host; langs = languages.
# A comment goes to a site of its language hosting its topic, else to the language's
# general site (``"*"``), else to the English general site.
# --------------------------------------------------------------------------------------
SITES = [
    {
        "url": "https://blog.rustacean.example",
        "langs": ["en"],
        "style": "date",
        "topics": ["programming-rust", "programming-go"],
    },
    {
        "url": "https://pythonic-notes.example",
        "langs": ["en"],
        "style": "date",
        "topics": ["programming-python", "data-science"],
    },
    {
        "url": "https://frontend-fieldnotes.example",
        "langs": ["en"],
        "style": "slug",
        "topics": ["programming-js", "html-css", "wordpress"],
    },
    {
        "url": "https://sysadmin-scratchpad.example",
        "langs": ["en"],
        "style": "date",
        "topics": ["linux", "databases", "devops-docker", "devops-k8s", "nginx", "bash", "git"],
    },
    {
        "url": "https://cooking-with-ana.example",
        "langs": ["en"],
        "style": "slug",
        "topics": ["cooking"],
    },
    {
        "url": "https://wander-slowly.example",
        "langs": ["en"],
        "style": "date",
        "topics": ["travel", "cycling", "casino-travel"],
    },
    {
        "url": "https://muddy-patch.example",
        "langs": ["en"],
        "style": "query",
        "topics": ["gardening", "diy", "knitting", "pets"],
    },
    {
        "url": "https://small-humans.example",
        "langs": ["en"],
        "style": "slug",
        "topics": ["parenting", "teaching", "dating"],
    },
    {
        "url": "https://frugal-ish.example",
        "langs": ["en"],
        "style": "date",
        "topics": [
            "personal-finance",
            "small-business",
            "crypto-news",
            "social-media",
            "seo",
            "remote-work",
        ],
    },
    {
        "url": "https://health-explained.example",
        "langs": ["en"],
        "style": "slug",
        "topics": ["health", "fitness", "science"],
    },
    {
        "url": "https://northfield-notes.example",
        "langs": ["en"],
        "style": "query",
        "topics": [
            "local-news",
            "politics",
            "sports-betting",
            "books",
            "music",
            "gaming",
            "photography",
            "*",
        ],
    },
    {
        "url": "https://kuechenliebe.example",
        "langs": ["de"],
        "style": "date",
        "topics": [
            "cooking",
            "gardening",
            "parenting",
            "diy",
            "travel",
            "cycling",
            "pets",
            "health",
            "books",
            "music",
            "local-news",
            "*",
        ],
    },
    {
        "url": "https://technik-notizen.example",
        "langs": ["de"],
        "style": "slug",
        "topics": [
            "linux",
            "programming-python",
            "programming-js",
            "wordpress",
            "databases",
            "gaming",
            "crypto-news",
            "science",
            "photography",
            "personal-finance",
            "small-business",
        ],
    },
    {"url": "https://carnet-de-bord.example", "langs": ["fr"], "style": "date", "topics": ["*"]},
    {"url": "https://cuaderno-de-lucia.example", "langs": ["es"], "style": "slug", "topics": ["*"]},
    {"url": "https://diario-da-rita.example", "langs": ["pt"], "style": "query", "topics": ["*"]},
    {"url": "https://appunti-sparsi.example", "langs": ["it"], "style": "date", "topics": ["*"]},
    {"url": "https://po-godzinach.example", "langs": ["pl"], "style": "slug", "topics": ["*"]},
    {
        "url": "https://zametki-na-polyakh.example",
        "langs": ["ru"],
        "style": "date",
        "topics": ["*"],
    },
    {"url": "https://notities-van-noor.example", "langs": ["nl"], "style": "slug", "topics": ["*"]},
    {"url": "https://kurashi-no-memo.example", "langs": ["ja"], "style": "query", "topics": ["*"]},
]

# Post slugs per topic (English); other languages use TOPIC_WORDS/SLUG_SUFFIX below.
TOPIC_SLUGS = {
    "programming-python": [
        "virtual-environments-without-tears",
        "asyncio-explained",
        "dataclasses-in-practice",
        "decorators-demystified",
        "packaging-with-pyproject",
        "type-hints-that-help",
    ],
    "programming-js": [
        "understanding-the-event-loop",
        "fetch-and-error-handling",
        "bundlers-compared",
        "closures-by-example",
        "typescript-for-skeptics",
    ],
    "programming-rust": [
        "borrow-checker-field-guide",
        "error-handling-with-thiserror",
        "async-rust-first-steps",
        "lifetimes-without-panic",
    ],
    "programming-go": ["go-contexts-explained", "table-driven-tests"],
    "data-science": ["pandas-groupby-tricks", "cross-validation-pitfalls"],
    "html-css": ["css-grid-layouts", "accessible-forms"],
    "wordpress": ["child-themes-done-right", "speeding-up-wordpress", "wp-cli-basics"],
    "linux": [
        "systemd-timers-instead-of-cron",
        "ssh-hardening-checklist",
        "debugging-a-full-disk",
        "my-dotfiles-2024",
    ],
    "databases": ["postgres-indexes-explained", "vacuum-and-bloat", "sqlite-in-production"],
    "devops-docker": ["smaller-docker-images", "compose-for-local-dev"],
    "devops-k8s": ["kubernetes-probes"],
    "nginx": ["nginx-reverse-proxy-tls"],
    "bash": ["bash-strict-mode"],
    "git": ["git-rebase-interactive", "recovering-lost-commits"],
    "cooking": [
        "no-knead-sourdough",
        "weeknight-dal",
        "lemon-olive-oil-cake",
        "perfect-roast-potatoes",
        "one-pot-tomato-pasta",
        "homemade-stock",
    ],
    "travel": [
        "two-weeks-in-portugal-by-train",
        "packing-light-carry-on-only",
        "hiking-the-dolomites",
        "slow-travel-in-japan",
        "night-trains-of-europe",
    ],
    "cycling": ["first-century-ride", "bikepacking-kit-list"],
    "casino-travel": ["a-weekend-in-monte-carlo"],
    "gardening": ["raised-beds-on-a-budget", "tomato-blight", "composting-basics", "saving-seeds"],
    "diy": ["fixing-a-dripping-tap", "building-a-workbench", "tiling-a-bathroom-floor"],
    "knitting": ["first-sock-pattern", "blocking-lace"],
    "pets": ["adopting-a-senior-cat", "dog-separation-anxiety"],
    "parenting": ["toddler-sleep-regression", "screen-time-rules", "picky-eaters"],
    "teaching": ["marking-workload", "phones-in-the-classroom"],
    "dating": ["first-date-nerves", "dating-apps-after-40"],
    "personal-finance": [
        "emergency-fund-first",
        "index-funds-explained",
        "budgeting-spreadsheet",
        "paying-off-debt",
    ],
    "small-business": ["pricing-your-handmade-goods", "first-year-bookkeeping"],
    "crypto-news": ["exchange-collapse-lessons", "stablecoins-explained"],
    "social-media": ["growing-slowly-on-instagram", "do-you-need-a-newsletter"],
    "seo": ["seo-for-small-blogs", "is-link-building-dead", "local-seo-basics"],
    "remote-work": ["two-years-of-working-from-home", "side-income-reality-check"],
    "health": ["understanding-blood-pressure", "vitamin-d-in-winter", "sleep-hygiene"],
    "fitness": ["couch-to-5k-week-1", "strength-training-over-40"],
    "science": ["why-the-sky-is-blue", "crispr-in-plain-words"],
    "local-news": ["council-budget-meeting", "new-bus-routes", "library-opening-hours"],
    "politics": ["election-night-notes"],
    "sports-betting": ["why-the-bookie-always-wins"],
    "books": ["my-favourite-books-this-year", "book-club-picks"],
    "music": ["learning-barre-chords", "guitar-amp-on-a-budget"],
    "gaming": ["indie-games-worth-your-time", "retro-handhelds"],
    "photography": ["shooting-in-manual", "prime-lens-for-beginners"],
}
TOPIC_WORDS = {
    "de": {
        "cooking": "rezept",
        "gardening": "garten",
        "parenting": "familienalltag",
        "diy": "heimwerken",
        "travel": "reisebericht",
        "cycling": "radtour",
        "linux": "linux",
        "programming-python": "python",
        "wordpress": "wordpress",
        "databases": "datenbanken",
        "personal-finance": "finanzen",
        "photography": "fotografie",
        "health": "gesundheit",
        "books": "buecher",
        "music": "musik",
        "gaming": "spiele",
        "pets": "haustiere",
        "science": "wissenschaft",
        "local-news": "aus-der-stadt",
    },
    "fr": {"cooking": "recette", "travel": "voyage", "gardening": "jardin", "linux": "linux"},
    "es": {"cooking": "receta", "travel": "viaje", "gardening": "huerto", "parenting": "crianza"},
    "pt": {"cooking": "receita", "travel": "viagem", "gardening": "horta"},
    "it": {"cooking": "ricetta", "travel": "viaggio", "gardening": "orto"},
    "pl": {"cooking": "przepis", "travel": "podroz", "gardening": "ogrod"},
    "ru": {"cooking": "retsept", "travel": "puteshestvie", "gardening": "ogorod"},
    "nl": {
        "cooking": "recept",
        "travel": "reisverslag",
        "gardening": "moestuin",
        "cycling": "fietstocht",
    },
    "ja": {
        "cooking": "ryouri",
        "travel": "tabi",
        "gardening": "kateisaien",
        "programming-python": "python",
        "linux": "linux",
        "health": "kenkou",
        "parenting": "kosodate",
        "books": "dokusho",
    },
}
SLUG_SUFFIX = {
    "de": ["erfahrungen", "tipps", "teil-2", "schritt-fuer-schritt", "fazit", "anleitung"],
    "fr": ["mes-astuces", "le-guide", "retour-d-experience", "partie-2", "pas-a-pas"],
    "es": ["mis-trucos", "guia-completa", "paso-a-paso", "segunda-parte", "experiencia"],
    "pt": ["minhas-dicas", "guia-completo", "passo-a-passo", "parte-2", "experiencia"],
    "it": ["i-miei-consigli", "guida-completa", "passo-passo", "seconda-parte"],
    "pl": ["moje-porady", "poradnik", "krok-po-kroku", "czesc-2", "wrazenia"],
    "ru": ["moi-sovety", "podrobno", "shag-za-shagom", "chast-2", "opyt"],
    "nl": ["mijn-tips", "stap-voor-stap", "deel-2", "ervaringen", "handleiding"],
    "ja": ["memo", "matome", "kansou", "yarikata", "sono-2"],
    "en": ["notes", "a-beginners-guide", "lessons-learned", "revisited", "part-2"],
}

# --------------------------------------------------------------------------------------
# Names and mail providers (invented people; common providers).
# --------------------------------------------------------------------------------------
FIRST = {
    "en": [
        "James",
        "Emma",
        "Oliver",
        "Sophie",
        "Liam",
        "Chloe",
        "Noah",
        "Grace",
        "Ethan",
        "Megan",
        "Daniel",
        "Rachel",
        "Tom",
        "Laura",
        "Chris",
        "Amy",
        "Ben",
        "Kate",
        "Sam",
        "Jess",
        "Ryan",
        "Hannah",
        "Marcus",
        "Priya",
        "Aisha",
        "Wei",
        "Diego",
        "Fatima",
        "Kwame",
        "Yuki",
        "Rohan",
        "Nina",
        "Patrick",
        "Claire",
        "Owen",
        "Zoe",
    ],
    "de": [
        "Lukas",
        "Anna",
        "Felix",
        "Lea",
        "Jonas",
        "Laura",
        "Tobias",
        "Julia",
        "Stefan",
        "Katrin",
        "Matthias",
        "Sabine",
        "Florian",
        "Miriam",
        "Jan",
        "Nina",
        "Uwe",
        "Heike",
    ],
    "fr": [
        "Julien",
        "Camille",
        "Thomas",
        "Léa",
        "Nicolas",
        "Manon",
        "Antoine",
        "Chloé",
        "Mathieu",
        "Sophie",
        "Hugo",
        "Élodie",
        "Pierre",
        "Claire",
    ],
    "es": [
        "Javier",
        "Lucía",
        "Carlos",
        "María",
        "Pablo",
        "Carmen",
        "Diego",
        "Laura",
        "Alejandro",
        "Sofía",
        "Sergio",
        "Marta",
        "Andrés",
        "Paula",
    ],
    "pt": [
        "João",
        "Ana",
        "Pedro",
        "Mariana",
        "Tiago",
        "Beatriz",
        "Rafael",
        "Inês",
        "Lucas",
        "Juliana",
        "Bruno",
        "Carolina",
    ],
    "it": [
        "Luca",
        "Giulia",
        "Marco",
        "Francesca",
        "Andrea",
        "Chiara",
        "Matteo",
        "Sara",
        "Davide",
        "Elena",
        "Simone",
        "Martina",
    ],
    "pl": [
        "Piotr",
        "Anna",
        "Tomasz",
        "Katarzyna",
        "Michał",
        "Magdalena",
        "Paweł",
        "Agnieszka",
        "Krzysztof",
        "Joanna",
        "Marcin",
        "Ewa",
    ],
    "ru": [
        "Алексей",
        "Мария",
        "Дмитрий",
        "Анна",
        "Сергей",
        "Елена",
        "Иван",
        "Ольга",
        "Andrey",
        "Natalia",
        "Pavel",
        "Irina",
    ],
    "nl": [
        "Daan",
        "Sanne",
        "Bram",
        "Lotte",
        "Jeroen",
        "Femke",
        "Thijs",
        "Anouk",
        "Pieter",
        "Eva",
        "Ruben",
        "Marloes",
    ],
    "ja": [
        "Yuki",
        "Haruto",
        "Aoi",
        "Sota",
        "Yui",
        "Ren",
        "Hina",
        "Kenta",
        "Misaki",
        "Daiki",
        "Sakura",
        "Takumi",
    ],
}
LAST = {
    "en": [
        "Smith",
        "Taylor",
        "Brown",
        "Wilson",
        "Evans",
        "Walker",
        "Hughes",
        "Clarke",
        "Patel",
        "Khan",
        "Nguyen",
        "Okafor",
        "Murphy",
        "Kelly",
        "Reid",
        "Foster",
        "Bennett",
        "Carter",
        "Lopez",
        "Kim",
        "Chen",
        "Singh",
        "Mensah",
        "Doyle",
    ],
    "de": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Becker",
        "Hoffmann",
        "Wagner",
        "Koch",
        "Richter",
        "Klein",
        "Wolf",
        "Krüger",
        "Hartmann",
    ],
    "fr": [
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefèvre",
    ],
    "es": [
        "García",
        "Fernández",
        "González",
        "Rodríguez",
        "López",
        "Martínez",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Ruiz",
        "Díaz",
        "Moreno",
    ],
    "pt": [
        "Silva",
        "Santos",
        "Ferreira",
        "Pereira",
        "Oliveira",
        "Costa",
        "Rodrigues",
        "Almeida",
        "Nunes",
        "Sousa",
    ],
    "it": [
        "Rossi",
        "Russo",
        "Ferrari",
        "Esposito",
        "Bianchi",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
    ],
    "pl": [
        "Nowak",
        "Kowalski",
        "Wiśniewski",
        "Wójcik",
        "Kamiński",
        "Lewandowski",
        "Zieliński",
        "Szymański",
        "Woźniak",
        "Dąbrowski",
    ],
    "ru": ["Иванов", "Смирнова", "Кузнецов", "Попова", "Sokolov", "Volkova", "Morozov", "Lebedeva"],
    "nl": [
        "de Jong",
        "Jansen",
        "de Vries",
        "van den Berg",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
    ],
    "ja": [
        "Sato",
        "Suzuki",
        "Takahashi",
        "Tanaka",
        "Ito",
        "Watanabe",
        "Yamamoto",
        "Nakamura",
        "Kobayashi",
        "Kato",
    ],
}
HANDLE_BITS = [
    "pixel",
    "coffee",
    "night",
    "owl",
    "moss",
    "river",
    "byte",
    "fox",
    "maple",
    "tinker",
    "north",
    "quiet",
    "lazy",
    "retro",
    "salt",
    "berry",
    "wolf",
    "cloud",
]
PROVIDERS = {
    "en": ["gmail.com"] * 6
    + [
        "outlook.com",
        "hotmail.com",
        "yahoo.com",
        "icloud.com",
        "proton.me",
        "hotmail.co.uk",
        "aol.com",
        "fastmail.com",
    ],
    "de": ["gmail.com"] * 3
    + ["web.de", "gmx.de", "gmx.net", "t-online.de", "posteo.de", "outlook.de"],
    "fr": ["gmail.com"] * 3 + ["orange.fr", "free.fr", "laposte.net", "hotmail.fr", "sfr.fr"],
    "es": ["gmail.com"] * 4 + ["hotmail.es", "yahoo.es", "outlook.es", "telefonica.net"],
    "pt": ["gmail.com"] * 4 + ["hotmail.com", "sapo.pt", "uol.com.br", "outlook.com"],
    "it": ["gmail.com"] * 3 + ["libero.it", "virgilio.it", "hotmail.it", "alice.it"],
    "pl": ["gmail.com"] * 3 + ["wp.pl", "onet.pl", "o2.pl", "interia.pl"],
    "ru": ["gmail.com", "yandex.ru", "yandex.ru", "mail.ru", "mail.ru", "rambler.ru"],
    "nl": ["gmail.com"] * 3 + ["ziggo.nl", "kpnmail.nl", "hotmail.nl", "outlook.com"],
    "ja": ["gmail.com"] * 3
    + ["yahoo.co.jp", "yahoo.co.jp", "icloud.com", "docomo.ne.jp", "ezweb.ne.jp", "outlook.jp"],
}
# Invented throw-away / odd mail domains used by spammers.
# (Invented names on real TLDs: the reserved ".example" TLD is kept for the blogs only,
# which both labels share, so it cannot become a spam give-away.)
ODD_MAIL_DOMAINS = [
    "tempinbox-24.com",
    "quick-inbox.net",
    "throwmail.info",
    "mailbox-zone.xyz",
    "fastmail-box.org",
    "inboxkitten-alt.com",
    "securemail-box.net",
    "promo-mailer.top",
    "mailnow.click",
    "bulk-sender.site",
    "mx-relay7.online",
    "spamgourmet-alt.org",
]
PERSONAL_TLDS = [
    "com",
    "com",
    "net",
    "me",
    "dev",
    "blog",
    "org",
    "io",
    "de",
    "nl",
    "page",
    "co.uk",
    "fr",
]
SPAM_TLDS = [
    "com",
    "com",
    "com",
    "shop",
    "xyz",
    "top",
    "site",
    "online",
    "click",
    "info",
    "biz",
    "net",
    "store",
    "buzz",
    "co",
]

KEYWORD_NAMES = {
    "seo_link_drop": [
        "best seo services",
        "seo company",
        "backlinks",
        "web design agency",
        "digital marketing",
        "local seo",
        "link building service",
    ],
    "generic_praise": ["home", "website", "my blog", "click here", "visit site"],
    "tech_support_scam": [
        "QuickBooks Support",
        "printer support number",
        "airline tickets",
        "customer care number",
        "antivirus support",
    ],
    "pharma": ["buy viagra", "online pharmacy", "cialis", "tramadol online", "weight loss pills"],
    "casino_betting": [
        "online casino",
        "slot gacor",
        "sports betting",
        "free spins",
        "poker online",
    ],
    "crypto_investment": [
        "bitcoin investment",
        "crypto recovery",
        "forex trading",
        "fund recovery expert",
    ],
    "essay_writing": [
        "essay writing service",
        "assignment help",
        "write my paper",
        "dissertation help",
    ],
    "adult": ["adult dating", "webcam chat", "hot singles", "escort service"],
    "fake_followers": [
        "buy instagram followers",
        "smm panel",
        "buy youtube views",
        "buy google reviews",
    ],
    "loans": ["payday loans", "fast cash", "bad credit loans", "loan offer"],
    "copied_offtopic": [
        "solar installers",
        "roofing contractor",
        "carpet cleaning",
        "movers and packers",
    ],
    "marketplace": ["replica watches", "cheap software keys", "buy backlinks", "wholesale jerseys"],
    "romance_scam": ["love spell caster", "single ladies", "find your soulmate"],
    "work_from_home": ["work from home", "make money online", "online jobs", "easy income"],
    "seo_outreach": ["seo expert", "guest post service", "rank on google", "seo agency"],
}

# --------------------------------------------------------------------------------------
# User agents.  Browser versions follow the comment date; spam sometimes lags or is a bot.
# --------------------------------------------------------------------------------------
WIN = ["Windows NT 10.0; Win64; x64"]
MAC = ["Macintosh; Intel Mac OS X 10_15_7"]
LINUX = ["X11; Linux x86_64", "X11; Ubuntu; Linux x86_64"]
ANDROID = [
    "Linux; Android 10; K",
    "Linux; Android 13; SM-S911B",
    "Linux; Android 14; Pixel 8",
    "Linux; Android 12; moto g(50)",
    "Linux; Android 11; Redmi Note 9 Pro",
]
BOT_UAS = [
    "curl/7.68.0",
    "curl/8.5.0",
    "python-requests/2.25.1",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "Java/1.8.0_181",
    "Wget/1.20.3 (linux-gnu)",
    "okhttp/4.9.0",
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
    "Mozilla/5.0 (Windows NT 6.1; rv:45.0) Gecko/20100101 Firefox/45.0",
    "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.9.2.13) Gecko/20101203 Firefox/3.6.13",
    "Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.229 Version/11.62",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/49.0.2623.112 Safari/537.36",
    "",
]


def months_since_2021(dt: datetime) -> int:
    return (dt.year - 2021) * 12 + dt.month - 1


def browser_ua(rng: random.Random, when: datetime, lag_months: int = 0) -> str:
    m = max(0, months_since_2021(when) - lag_months - rng.randint(0, 3))
    chrome = 88 + int(m * 0.92)
    firefox = 85 + int(m * 0.98)
    safari = (
        14
        if m < 9
        else 15
        if m < 21
        else 16
        if m < 33
        else 17
        if m < 45
        else (18 if m < 57 else 26)
    )
    kind = rng.choices(
        [
            "chrome_win",
            "chrome_mac",
            "chrome_android",
            "safari_ios",
            "safari_mac",
            "firefox_win",
            "firefox_linux",
            "edge_win",
            "samsung",
        ],
        weights=[26, 8, 20, 18, 6, 7, 4, 8, 3],
    )[0]
    if kind == "chrome_win":
        return (
            f"Mozilla/5.0 ({WIN[0]}) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome}.0.0.0 Safari/537.36"
        )
    if kind == "chrome_mac":
        return (
            f"Mozilla/5.0 ({MAC[0]}) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome}.0.0.0 Safari/537.36"
        )
    if kind == "chrome_android":
        return (
            f"Mozilla/5.0 ({rng.choice(ANDROID)}) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome}.0.0.0 Mobile Safari/537.36"
        )
    if kind == "safari_ios":
        minor = rng.randint(0, 6)
        return (
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {safari}_{minor} like Mac OS X) "
            f"AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari}.{minor} "
            "Mobile/15E148 Safari/604.1"
        )
    if kind == "safari_mac":
        return (
            f"Mozilla/5.0 ({MAC[0]}) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            f"Version/{safari}.{rng.randint(0, 5)} Safari/605.1.15"
        )
    if kind == "firefox_win":
        return f"Mozilla/5.0 ({WIN[0]}; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0"
    if kind == "firefox_linux":
        return (
            f"Mozilla/5.0 ({rng.choice(LINUX)}; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0"
        )
    if kind == "edge_win":
        return (
            f"Mozilla/5.0 ({WIN[0]}) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome}.0.0.0 Safari/537.36 Edg/{chrome}.0.0.0"
        )
    return (
        f"Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"SamsungBrowser/{14 + m // 8}.0 Chrome/{chrome - 4}.0.0.0 Mobile Safari/537.36"
    )


def wordpress_ua(rng: random.Random, when: datetime, url: str) -> str:
    m = months_since_2021(when)
    tenths = 57 + max(0, (m - 2) * 11 // 49)  # 5.7 in March 2021, 6.8 in spring 2025
    ver = f"{tenths // 10}.{tenths % 10}.{rng.randint(0, 3)}"
    return f"WordPress/{ver}; {url}"


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------
def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random("|".join([str(seed), *map(str, parts)]))  # nosec B311 # data, not keys


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ascii_slug(text: str) -> str:
    translit = str.maketrans({"ß": "ss", "ł": "l", "Ł": "L", "ø": "o", "æ": "ae"})
    t = unicodedata.normalize("NFKD", text.translate(translit))
    t = t.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")


CYR_LATIN = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ы": "y",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "ь": "",
        "ъ": "",
    }
)


def name_slug(name: str) -> str:
    return ascii_slug(name.lower().translate(CYR_LATIN))


def random_public_ipv4(rng: random.Random) -> str:
    while True:
        ip = ipaddress.IPv4Address(rng.getrandbits(32))
        if ip.is_global and not ip.is_multicast and int(str(ip).split(".")[0]) < 224:
            return str(ip)


def random_public_ipv6(rng: random.Random) -> str:
    prefix = rng.choice(
        [0x2A00, 0x2A01, 0x2A02, 0x2600, 0x2601, 0x2603, 0x2400, 0x2401, 0x2800, 0x2804, 0x2C0F]
    )
    groups = [prefix] + [rng.getrandbits(16) for _ in range(3)]
    if rng.random() < 0.5:
        groups += [0, 0, 0, rng.getrandbits(16)]
    else:
        groups += [rng.getrandbits(16) for _ in range(4)]
    ip = ipaddress.IPv6Address(":".join(f"{g:x}" for g in groups))
    return ip.compressed


URL_RE = re.compile(r"https?://[^\s\"'<>\]\[]+", re.I)


def first_url(text: str) -> str:
    m = URL_RE.search(text)
    return m.group(0).rstrip(".,;:!?)") if m else ""


def url_domain(url: str) -> str:
    m = re.match(r"https?://([^/?#]+)", url)
    return m.group(1).lower() if m else ""


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------
def load_raw(raw_dir: Path) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(raw_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path.name}:{n}: invalid JSON: {exc}") from exc
                for key in ("id", "content", "label", "family", "lang"):
                    if not rec.get(key):
                        raise SystemExit(f"{path.name}:{n}: missing {key!r}")
                if rec["label"] not in ("ham", "spam"):
                    raise SystemExit(f"{path.name}:{n}: bad label {rec['label']!r}")
                rec["content"] = rec["content"].strip()
                rec["_file"] = path.name
                rec["_line"] = n
                rows.append(rec)
    ids = Counter(r["id"] for r in rows)
    dup_ids = sorted(i for i, c in ids.items() if c > 1)
    if dup_ids:
        raise SystemExit(f"duplicate raw ids: {dup_ids[:10]}")
    return rows


# --------------------------------------------------------------------------------------
# Sites and posts
# --------------------------------------------------------------------------------------
def site_for(lang: str, topic: str) -> dict:
    lang = lang if lang in FIRST else "en"
    for site in SITES:
        if lang in site["langs"] and topic in site["topics"]:
            return site
    for site in SITES:
        if lang in site["langs"] and "*" in site["topics"]:
            return site
    return next(s for s in SITES if "*" in s["topics"] and "en" in s["langs"])


def site_lang(site: dict) -> str:
    return site["langs"][0]


def site_domain(site: dict) -> str:
    return url_domain(site["url"])


def make_slug(lang: str, topic: str, index: int) -> str:
    if lang == "en" or lang not in TOPIC_WORDS:
        slugs = TOPIC_SLUGS.get(topic)
        if slugs:
            base = slugs[index % len(slugs)]
            return base if index < len(slugs) else f"{base}-part-{index // len(slugs) + 1}"
        suffix = SLUG_SUFFIX["en"][index % len(SLUG_SUFFIX["en"])]
        return f"{ascii_slug(topic)}-{suffix}"
    word = TOPIC_WORDS[lang].get(topic, ascii_slug(topic))
    suffixes = SLUG_SUFFIX[lang]
    base = f"{word}-{suffixes[index % len(suffixes)]}"
    return base if index < len(suffixes) else f"{base}-{index // len(suffixes) + 1}"


class Post:
    def __init__(self, seed: int, site: dict, lang: str, topic: str, index: int):
        self.site = site
        self.topic = topic
        self.slug = make_slug(lang, topic, index)
        rng = rng_for(seed, "post", site["url"], self.slug)
        span = (EPOCH_END - timedelta(days=20) - EPOCH_START).total_seconds()
        self.published = EPOCH_START + timedelta(seconds=rng.uniform(0, span))
        self.published = self.published.replace(second=0, microsecond=0)
        pub = self.published
        if site["style"] == "date":
            self.permalink = f"{site['url']}/{pub:%Y}/{pub:%m}/{self.slug}/"
        elif site["style"] == "query":
            self.post_id = rng.randint(40, 4800)
            self.permalink = f"{site['url']}/?p={self.post_id}"
        else:
            self.permalink = f"{site['url']}/{self.slug}/"

    def next_post_id(self) -> None:
        """Resolve a ``?p=`` clash with another post of the same site."""
        self.post_id += 1
        self.permalink = f"{self.site['url']}/?p={self.post_id}"


def assign_ham_posts(seed: int, ham: list[dict]) -> dict[str, Post]:
    """Group ham comments into posts: consecutive comments of one (lang, topic) share a
    post; a new post starts after 4-12 comments, but never right before a reply."""
    by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in ham:  # file order (raw files sorted, lines in order)
        by_key[(rec["lang"], rec.get("topic") or "misc")].append(rec)
    posts: dict[str, Post] = {}
    for (lang, topic), recs in sorted(by_key.items()):
        site = site_for(lang, topic)
        rng = rng_for(seed, "chunks", lang, topic)
        index, in_post, target = 0, 0, rng.randint(4, 12)
        post = Post(seed, site, lang, topic, index)
        for rec in recs:
            is_follow_up = (
                rec.get("comment_type") == "reply"
                or rec.get("role") == "post_author"
                or rec["family"] in ("author_reply", "discussion")
            )
            if in_post >= target and not is_follow_up:
                index += 1
                in_post, target = 0, rng.randint(4, 12)
                post = Post(seed, site, lang, topic, index)
            posts[rec["id"]] = post
            in_post += 1
    taken: set[str] = set()
    distinct = {(p.site["url"], p.slug): p for p in posts.values()}
    for key in sorted(distinct):
        post = distinct[key]
        while post.permalink in taken:
            post.next_post_id()
        taken.add(post.permalink)
    return posts


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------
def ham_delay(rng: random.Random) -> timedelta:
    r = rng.random()
    if r < 0.60:
        return timedelta(hours=rng.expovariate(1 / 20) + 0.05)
    if r < 0.82:
        return timedelta(days=rng.uniform(3, 60))
    return timedelta(days=rng.uniform(60, 1500))


def spam_delay(rng: random.Random) -> timedelta:
    r = rng.random()
    if r < 0.28:
        return timedelta(hours=rng.expovariate(1 / 30) + 0.02)
    if r < 0.58:
        return timedelta(days=rng.uniform(3, 120))
    return timedelta(days=rng.uniform(60, 1800))


def bounded(rng: random.Random, start: datetime, delay_fn) -> datetime:
    for _ in range(8):
        when = start + delay_fn(rng)
        if when < EPOCH_END:
            return when.replace(microsecond=0)
    span = max(60.0, (EPOCH_END - start).total_seconds())
    return (start + timedelta(seconds=rng.uniform(30, span))).replace(microsecond=0)


# --------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------
def person(rng: random.Random, lang: str) -> tuple[str, str, str]:
    """(display name, first, last) of an invented person."""
    lang = lang if lang in FIRST else "en"
    first, last = rng.choice(FIRST[lang]), rng.choice(LAST[lang])
    style = rng.random()
    if style < 0.45:
        return f"{first} {last}", first, last
    if style < 0.70:
        return first, first, last
    if style < 0.82:
        return f"{first} {last[0]}.", first, last
    if style < 0.90:
        return first.lower(), first, last
    handle = rng.choice(HANDLE_BITS) + rng.choice(HANDLE_BITS) + str(rng.randint(1, 99))
    return handle, first, last


def mail_local(rng: random.Random, first: str, last: str, display: str) -> str:
    f, l_ = name_slug(first).replace("-", ""), name_slug(last).replace("-", "")
    if not f:
        f = "user"
    if not l_:
        l_ = "x"
    opts = [
        f"{f}.{l_}",
        f"{f}{l_}",
        f"{f[0]}{l_}",
        f"{f}.{l_}{rng.randint(1, 99)}",
        f"{f}{rng.randint(70, 2005)}",
        f"{f}_{l_}",
    ]
    if " " not in display and "." not in display:
        opts.append(name_slug(display).replace("-", "") or f)
    return rng.choice(opts)


def personal_url(rng: random.Random, first: str, last: str) -> str:
    f, l_ = name_slug(first) or "home", name_slug(last) or "page"
    tld = rng.choice(PERSONAL_TLDS)
    pattern = rng.choice(
        [
            f"https://{f}{l_}.{tld}",
            f"https://{f}-{l_}.{tld}",
            f"https://www.{f}{l_}.{tld}",
            f"https://{f}writes.{tld}",
            f"https://{l_}-family.{tld}",
            f"http://{f}{l_}.{tld}/blog",
            f"https://{f}.{l_}.{tld}",
        ]
    )
    return pattern


# --------------------------------------------------------------------------------------
# Metadata synthesis
# --------------------------------------------------------------------------------------
def ham_meta(seed: int, rec: dict, post: Post, when: datetime, owners: dict) -> dict:
    rng = rng_for(seed, "ham", rec["id"])
    lang = rec["lang"]
    site = post.site
    ctype = rec.get("comment_type") or ""
    is_owner = rec.get("role") == "post_author"
    if not ctype:
        follow_up = rec["family"] == "discussion" and rng.random() < 0.35
        ctype = "reply" if follow_up else "comment"
    out = {"comment_type": ctype, "user_role": ""}

    if is_owner:
        name = rec.get("author_name") or owners.setdefault(site["url"], person(rng, lang)[0])
        words = [w for w in re.split(r"[\s(]+", name) if w]
        skip = {"dr", "dr.", "mrs", "mrs.", "mr", "mr.", "ms", "ms.", "coach"}
        core = next((w for w in words if w.lower() not in skip), words[0] if words else "editor")
        local = name_slug(core).replace("-", "") or "editor"
        orng = rng_for(seed, "owner", site["url"], name)
        out.update(
            author_name=name,
            author_email=f"{local}@{site_domain(site)}",
            author_url=rec.get("author_url") or site["url"],
            user_ip=random_public_ipv4(orng),
            user_role="author",
            user_agent=browser_ua(orng, when),
            referrer=post.permalink,
            honeypot="",
        )
        return out

    if ctype in ("pingback", "trackback"):
        src_name = rec.get("author_name") or "Weekly links"
        src_host = ascii_slug(src_name)[:30].strip("-") or "links"
        src_site = f"https://{src_host}.{rng.choice(PERSONAL_TLDS)}"
        src_url = rec.get("author_url") or (
            f"{src_site}/{when:%Y}/{when:%m}/{ascii_slug(src_name)[:40].strip('-') or 'post'}/"
        )
        out.update(
            author_name=src_name,
            author_email="",
            author_url=src_url,
            user_ip=random_public_ipv4(rng),
            user_agent=wordpress_ua(rng, when, src_site),
            referrer="",
            honeypot="",
        )
        return out

    display, first, last = person(rng, lang)
    name = rec.get("author_name") or display
    if not rec.get("author_name") and rng.random() < 0.05:
        name = rng.choice(["Anonymous", "anon", "Guest", "A reader"])
    # A returning reader keeps IP/UA/e-mail per (site, name).
    prng = rng_for(seed, "reader", site["url"], name)
    if rec.get("author_name"):
        first = re.split(r"[\s_.]+", name)[0] or first
        parts = re.split(r"\s+", name)
        last = parts[-1].strip(".") if len(parts) > 1 else prng.choice(LAST.get(lang, LAST["en"]))
    r = prng.random()
    if r < 0.11 or name in ("Anonymous", "anon", "Guest", "A reader"):
        email = ""
    elif r < 0.14:  # privacy-minded readers use throw-away or alias addresses too
        email = f"{mail_local(prng, first, last, name)}@{prng.choice(ODD_MAIL_DOMAINS)}"
    else:
        domain = prng.choice(PROVIDERS.get(lang, PROVIDERS["en"]))
        email = f"{mail_local(prng, first, last, name)}@{domain}"
    url = rec.get("author_url") or ""
    if not url and prng.random() < 0.2:
        url = personal_url(prng, first, last)
        if email and prng.random() < 0.4:
            local = name_slug(first).replace("-", "") or "hello"
            email = f"{local}@{url_domain(url).removeprefix('www.')}"
    ip = random_public_ipv6(prng) if prng.random() < 0.12 else random_public_ipv4(prng)
    ua = browser_ua(prng, when)
    if rng.random() < 0.015:
        ua = rng.choice(BOT_UAS[:8])  # scripted readers / odd privacy tools exist
    ref_r = rng.random()
    if ref_r < 0.66:
        referrer = post.permalink
    elif ref_r < 0.76:
        referrer = post.permalink + rng.choice(
            ["#comments", "#respond", f"?replytocom={rng.randint(100, 9999)}#respond"]
        )
    elif ref_r < 0.81:
        referrer = site["url"] + "/"
    elif ref_r < 0.86:
        referrer = rng.choice(
            [
                "https://www.google.com/",
                "https://duckduckgo.com/",
                "https://www.bing.com/",
                "https://news.ycombinator.com/",
                "https://www.reddit.com/",
                "https://t.co/",
            ]
        )
    else:
        referrer = ""
    honeypot = ""
    if rng.random() < 0.004:  # browser autofill into the hidden field
        honeypot = name
    role = "subscriber" if rng.random() < 0.07 else ""
    out.update(
        author_name=name,
        author_email=email,
        author_url=url,
        user_ip=ip,
        user_agent=ua,
        referrer=referrer,
        honeypot=honeypot,
        user_role=role,
    )
    return out


class SpamInfra:
    """Shared spammer infrastructure: bad /24 subnets and promoted domains per family."""

    def __init__(self, seed: int, spam: list[dict]):
        rng = rng_for(seed, "infra")
        self.subnets = []
        while len(self.subnets) < 30:
            a = random_public_ipv4(rng).rsplit(".", 1)[0]
            if a not in self.subnets:
                self.subnets.append(a)
        self.domains: dict[str, list[str]] = defaultdict(list)
        for rec in spam:
            for u in URL_RE.findall(rec["content"]):
                d = url_domain(u.rstrip(".,;:!?)"))
                if d and d not in self.domains[rec["family"]]:
                    self.domains[rec["family"]].append(d)
        for fam in self.domains:
            self.domains[fam].sort()


def spam_url(rng: random.Random, rec: dict, infra: SpamInfra) -> str:
    own = first_url(rec["content"])
    if own and rng.random() < 0.55:
        d = url_domain(own)
        return rng.choice([f"https://{d}", f"https://{d}/", f"http://{d}", own])
    pool = infra.domains.get(rec["family"]) or infra.domains.get("seo_link_drop") or []
    if pool and rng.random() < 0.75:
        d = rng.choice(pool)
    else:
        words = ascii_slug(rng.choice(KEYWORD_NAMES.get(rec["family"], ["best deals"])))
        d = (
            f"{words}-{rng.choice(['pro', 'online', 'hub', '24', 'now', 'store', 'top'])}."
            f"{rng.choice(SPAM_TLDS)}"
        )
    scheme = "http" if rng.random() < 0.3 else "https"
    path = rng.choice(["", "/", "/index.php", f"/?ref={rng.randint(1, 999)}", "/blog/"])
    return f"{scheme}://{d}{path}"


def spam_ip(rng: random.Random, infra: SpamInfra, *, shared: float, ipv6: float) -> str:
    """An address from one of the shared spam subnets (share ``shared``), else a random
    public IPv6 (share ``ipv6``) or IPv4 one."""
    draw = rng.random()
    if draw < shared:
        return f"{rng.choice(infra.subnets)}.{rng.randint(1, 254)}"
    if draw < shared + ipv6:
        return random_public_ipv6(rng)
    return random_public_ipv4(rng)


def spam_ua(
    rng: random.Random, when: datetime, *, scripted: float, outdated: float, max_lag: int
) -> str:
    """A scripted client (share ``scripted``), a browser 1 to ``max_lag`` months out of date
    (share ``outdated``), else a current browser."""
    draw = rng.random()
    if draw < scripted:
        return rng.choice(BOT_UAS)
    if draw < scripted + outdated:
        return browser_ua(rng, when, lag_months=rng.randint(12, max_lag))
    return browser_ua(rng, when)


def spam_meta(
    seed: int, rec: dict, post: Post, when: datetime, infra: SpamInfra, salt: str = ""
) -> dict:
    rng = rng_for(seed, "spam", rec["id"], salt)
    lang = rec["lang"]
    site = post.site
    ctype = rec.get("comment_type") or ""
    if not ctype:
        ctype = rng.choices(["comment", "reply", "trackback", "pingback"], weights=[85, 10, 3, 2])[
            0
        ]

    display, first, last = person(rng, lang if lang in FIRST else "en")
    name = rec.get("author_name") or ""
    if not name:
        r = rng.random()
        if r < 0.30:
            name = rng.choice(KEYWORD_NAMES.get(rec["family"], ["click here"]))
        elif r < 0.82:
            name = display
        elif r < 0.92:
            name = rng.choice(FIRST["en"]) + str(rng.randint(1, 9999))
        else:
            name = rng.choice(
                [
                    "admin",
                    "Hello",
                    "Guest",
                    "Anonymous",
                    "xrumer",
                    "hi",
                    "JosephBoaks",
                    "RobertDrync",
                    "MichaelFoEt",
                    "KennethHit",
                ]
            )
    url = rec.get("author_url") or ""
    if not url and rng.random() < 0.55:
        url = spam_url(rng, rec, infra)

    r = rng.random()
    f_, l_ = first, last
    if r < 0.08:
        email = ""
    elif r < 0.40:
        digits = str(rng.randint(1, 999)) if rng.random() < 0.5 else ""
        email = f"{mail_local(rng, f_, l_, name)}{digits}@gmail.com"
    elif r < 0.62:
        providers = [*PROVIDERS.get(lang, PROVIDERS["en"]), "mail.ru", "yandex.ru", "aol.com"]
        email = f"{mail_local(rng, f_, l_, name)}@{rng.choice(providers)}"
    elif r < 0.80:
        junk = "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(6, 12))
        )
        email = f"{junk}@{rng.choice(ODD_MAIL_DOMAINS)}"
    else:
        d = url_domain(url) or url_domain(first_url(rec["content"]))
        if d:
            email = (
                f"{rng.choice(['info', 'contact', 'sales', 'admin', 'support', 'seo'])}@"
                f"{d.removeprefix('www.')}"
            )
        else:
            local = ascii_slug(name).replace("-", ".")[:20] or "info"
            email = f"{local}@{rng.choice(ODD_MAIL_DOMAINS)}"

    ip = spam_ip(rng, infra, shared=0.45, ipv6=0.12)

    if ctype in ("trackback", "pingback"):
        src = url or spam_url(rng, rec, infra)
        url = src
        ua = wordpress_ua(rng, when, src) if rng.random() < 0.6 else rng.choice(BOT_UAS)
    else:
        ua = spam_ua(rng, when, scripted=0.22, outdated=0.18, max_lag=60)

    rr = rng.random()
    if rr < 0.38:
        referrer = ""
    elif rr < 0.68:
        referrer = post.permalink
    elif rr < 0.76:
        referrer = post.permalink + "#respond"
    elif rr < 0.84:
        referrer = site["url"] + "/"
    elif rr < 0.92:
        referrer = url or f"http://{rng.choice(ODD_MAIL_DOMAINS)}/"
    else:
        referrer = rng.choice(
            [
                "http://www.google.com/",
                "https://www.google.com/search?q="
                + ascii_slug(rec.get("topic") or "blog").replace("-", "+"),
                site["url"].replace("https://", "http://") + "/wp-comments-post.php",
            ]
        )

    honeypot = ""
    if rng.random() < 0.13:
        honeypot = rng.choice(
            [
                url or "http://",
                name,
                email or "1",
                "1",
                "on",
                rec["content"][:40],
                "http://" + (url_domain(url) or "x.example"),
            ]
        )
    role = "subscriber" if rng.random() < 0.02 else ""
    return {
        "comment_type": ctype,
        "author_name": name,
        "author_email": email,
        "author_url": url,
        "user_ip": ip,
        "user_agent": ua,
        "referrer": referrer,
        "honeypot": honeypot,
        "user_role": role,
    }


def posted_by_hand(seed: int, rec: dict) -> bool:
    """Scam contacts, testimonies and pitches without a link are often typed in by a person
    on a phone or a current browser, not posted by a bot: their metadata look ordinary, so
    the text must carry the verdict."""
    if first_url(rec["content"]) or rec.get("author_url") or rec.get("comment_type"):
        return False
    return rng_for(seed, "byhand", rec["id"]).random() < HAND_POSTED_SHARE


def hand_spam_meta(seed: int, rec: dict, post: Post, when: datetime, infra: SpamInfra) -> dict:
    """Metadata of spam typed in by hand: mostly a reader's, with a few tell-tales left."""
    rng = rng_for(seed, "handspam", rec["id"])
    lang = rec["lang"] if rec["lang"] in FIRST else "en"
    site = post.site
    display, first, last = person(rng, lang)
    name = rec.get("author_name") or ""
    if not name:
        keywords = KEYWORD_NAMES.get(rec["family"], ["click here"])
        name = display if rng.random() < 0.85 else rng.choice(keywords)
    url = spam_url(rng, rec, infra) if rng.random() < 0.2 else ""
    r = rng.random()
    if r < 0.05:
        email = ""
    elif r < 0.55:
        digits = str(rng.randint(1, 9999)) if rng.random() < 0.4 else ""
        email = f"{mail_local(rng, first, last, name)}{digits}@gmail.com"
    elif r < 0.90:
        providers = [*PROVIDERS.get(lang, PROVIDERS["en"]), "outlook.com", "yahoo.com"]
        email = f"{mail_local(rng, first, last, name)}@{rng.choice(providers)}"
    else:
        email = f"{mail_local(rng, first, last, name)}@{rng.choice(ODD_MAIL_DOMAINS)}"
    ip = spam_ip(rng, infra, shared=0.15, ipv6=0.15)
    ua = spam_ua(rng, when, scripted=0.06, outdated=0.09, max_lag=48)
    rr = rng.random()
    if rr < 0.62:
        referrer = post.permalink
    elif rr < 0.72:
        referrer = post.permalink + "#respond"
    elif rr < 0.80:
        referrer = site["url"] + "/"
    else:
        referrer = ""
    return {
        "comment_type": "reply" if rng.random() < 0.15 else "comment",
        "author_name": name,
        "author_email": email,
        "author_url": url,
        "user_ip": ip,
        "user_agent": ua,
        "referrer": referrer,
        "honeypot": name if rng.random() < 0.02 else "",
        "user_role": "subscriber" if rng.random() < 0.03 else "",
    }


def choose_spam_post(
    seed: int, rec: dict, posts_by_site: dict[str, list[Post]], salt: str = ""
) -> Post:
    rng = rng_for(seed, "spampost", rec["id"], salt)
    lang = rec["lang"]
    same_lang = [s for s in SITES if lang in s["langs"] and posts_by_site.get(s["url"])]
    candidates = (
        same_lang
        if same_lang and rng.random() < 0.7
        else [s for s in SITES if posts_by_site.get(s["url"])]
    )
    if not candidates:
        site = site_for(lang, "*")
        return Post(seed, site, site_lang(site), "misc", 0)
    site = rng.choice(candidates)
    return rng.choice(posts_by_site[site["url"]])


# --------------------------------------------------------------------------------------
# Obfuscation
# --------------------------------------------------------------------------------------
HOMO = {
    "a": ["а", "α"],
    "c": ["с", "ϲ"],
    "e": ["е", "ε"],
    "i": ["і", "ι"],
    "o": ["о", "ο"],
    "p": ["р", "ρ"],
    "s": ["ѕ"],
    "x": ["х", "χ"],
    "y": ["у", "γ"],
    "j": ["ј"],
    "h": ["һ"],
    "k": ["κ"],
    "v": ["ν"],
    "n": ["η"],
    "A": ["А", "Α"],
    "B": ["В", "Β"],
    "C": ["С"],
    "E": ["Е", "Ε"],
    "H": ["Н", "Η"],
    "I": ["І", "Ι"],
    "K": ["К", "Κ"],
    "M": ["М", "Μ"],
    "O": ["О", "Ο"],
    "P": ["Р", "Ρ"],
    "T": ["Т", "Τ"],
    "X": ["Х", "Χ"],
    "Y": ["Υ"],
}
ZW = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
LEET = {
    "a": ["4", "@"],
    "e": ["3"],
    "i": ["1", "!"],
    "o": ["0"],
    "s": ["5", "$"],
    "t": ["7"],
    "l": ["1"],
    "g": ["9"],
    "b": ["8"],
}
WORD_RE = re.compile(r"[^\W\d_]{4,}")
TOKEN_RE = re.compile(r"https?://\S+|<[^>]+>|\[/?url[^\]]*\]|\S+@\S+|[^\W\d_]{4,}")
SPAM_WORDS = {
    "viagra",
    "cialis",
    "casino",
    "bitcoin",
    "crypto",
    "loan",
    "loans",
    "essay",
    "pills",
    "pharmacy",
    "slots",
    "slot",
    "betting",
    "followers",
    "replica",
    "prescription",
    "bonus",
    "spins",
    "poker",
    "investment",
    "recovery",
    "dating",
    "singles",
    "escort",
    "payday",
    "credit",
    "tramadol",
    "xanax",
    "cheap",
    "free",
    "whatsapp",
    "telegram",
    "support",
    "quickbooks",
    "printer",
    "airlines",
    "backlinks",
    "seo",
    "assignment",
    "homework",
    "dissertation",
    "rolex",
    "keys",
    "likes",
    "views",
    "instagram",
    "tiktok",
    "spell",
    "love",
    "girls",
    "webcam",
    "trading",
    "forex",
    "profit",
    "money",
    "cash",
    "wallet",
}


def keyword_spans(text: str, rng: random.Random, k: int) -> list[tuple[int, int]]:
    """Pick up to k word spans to disguise, preferring known spam words, never inside
    URLs, tags or e-mail addresses."""
    words = [
        m
        for m in TOKEN_RE.finditer(text)
        if WORD_RE.fullmatch(m.group(0)) and len(m.group(0)) <= 15
    ]
    if not words:
        return []
    hot = [m for m in words if m.group(0).lower() in SPAM_WORDS]
    pool = hot if hot else sorted(words, key=lambda m: (-len(m.group(0)), m.start()))[:8]
    chosen = rng.sample(pool, min(k, len(pool)))
    return sorted((m.start(), m.end()) for m in chosen)


def replace_spans(text: str, spans: list[tuple[int, int]], fn) -> str:
    out, last = [], 0
    for a, b in spans:
        out.append(text[last:a])
        out.append(fn(text[a:b]))
        last = b
    out.append(text[last:])
    return "".join(out)


def ob_homoglyph(text: str, rng: random.Random) -> str:
    if rng.random() < 0.35:  # sprinkle through the whole text outside URLs
        spans = [
            (m.start(), m.end()) for m in TOKEN_RE.finditer(text) if WORD_RE.fullmatch(m.group(0))
        ]
        rate = rng.uniform(0.15, 0.4)
    else:
        spans, rate = keyword_spans(text, rng, rng.randint(1, 4)), rng.uniform(0.4, 0.9)

    def sub(word: str) -> str:
        chars = list(word)
        idx = [i for i, ch in enumerate(chars) if ch in HOMO]
        for i in idx:
            if rng.random() < rate:
                chars[i] = rng.choice(HOMO[chars[i]])
        if idx and chars == list(word):
            i = rng.choice(idx)
            chars[i] = rng.choice(HOMO[chars[i]])
        return "".join(chars)

    return replace_spans(text, spans, sub)


def ob_zero_width(text: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        spans = [
            (m.start(), m.end()) for m in TOKEN_RE.finditer(text) if WORD_RE.fullmatch(m.group(0))
        ]
    else:
        spans = keyword_spans(text, rng, rng.randint(1, 5))
    zw = rng.sample(ZW, rng.randint(1, 3))

    def sub(word: str) -> str:
        out = [word[0]]
        for ch in word[1:]:
            if rng.random() < 0.5:
                out.append(rng.choice(zw))
            out.append(ch)
        return "".join(out)

    return replace_spans(text, spans, sub)


def ob_spaced(text: str, rng: random.Random) -> str:
    sep = rng.choice([" ", " ", ".", "-", " . ", "_", "*"])
    return replace_spans(text, keyword_spans(text, rng, rng.randint(1, 3)), lambda w: sep.join(w))


def ob_leet(text: str, rng: random.Random) -> str:
    whole = rng.random() < 0.25
    spans = (
        [(m.start(), m.end()) for m in TOKEN_RE.finditer(text) if WORD_RE.fullmatch(m.group(0))]
        if whole
        else keyword_spans(text, rng, rng.randint(1, 4))
    )
    rate = 0.35 if whole else 0.7

    def sub(word: str) -> str:
        out = "".join(
            rng.choice(LEET[ch.lower()]) if ch.lower() in LEET and rng.random() < rate else ch
            for ch in word
        )
        if out == word:
            i = next((i for i, ch in enumerate(word) if ch.lower() in LEET), None)
            if i is not None:
                out = word[:i] + LEET[word[i].lower()][0] + word[i + 1 :]
        return out

    return replace_spans(text, spans, sub)


def ob_entities(text: str, rng: random.Random) -> str:
    spans = keyword_spans(text, rng, rng.randint(1, 4))
    mode = rng.choice(["dec", "hex", "mixed"])

    def enc(ch: str) -> str:
        m = mode if mode != "mixed" else rng.choice(["dec", "hex", "raw"])
        if m == "dec":
            return f"&#{ord(ch)};"
        if m == "hex":
            return f"&#x{ord(ch):x};"
        return html.escape(ch)

    out = replace_spans(text, spans, lambda w: "".join(enc(c) for c in w))
    if out == text or rng.random() < 0.3:
        out = out.replace("&", "&amp;") if "&#" not in out else out
        out = out.replace("'", "&#39;").replace('"', "&quot;")
    return out


def to_fullwidth(s: str) -> str:
    return "".join(
        chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in s
    )


def ob_fullwidth(text: str, rng: random.Random) -> str:
    if rng.random() < 0.25 and len(text) < 160:
        # whole short message, URLs included (renders fine, defeats naive matching)
        return to_fullwidth(text)
    return replace_spans(text, keyword_spans(text, rng, rng.randint(1, 4)), to_fullwidth)


OBFUSCATORS = {
    "homoglyph": ob_homoglyph,
    "zero_width": ob_zero_width,
    "spaced": ob_spaced,
    "leet": ob_leet,
    "html_entities": ob_entities,
    "fullwidth": ob_fullwidth,
}


def obfuscate(text: str, rng: random.Random) -> tuple[str, list[str]]:
    names = sorted(OBFUSCATORS)
    k = 1 if rng.random() < 0.65 else 2
    picked = rng.sample(names, k)
    out = text
    for n in picked:
        out = OBFUSCATORS[n](out, rng)
    return out, picked


# --------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------
def build(raw_dir: Path, seed: int) -> tuple[list[dict], list[str]]:
    raw = load_raw(raw_dir)
    notes: list[str] = []
    ham = [r for r in raw if r["label"] == "ham"]
    spam = [r for r in raw if r["label"] == "spam"]

    # Exact-duplicate contents: keep the first (ham first, then spam; file order).
    seen: dict[str, dict] = {}
    kept: list[dict] = []
    for rec in ham + spam:
        other = seen.get(rec["content"])
        if other is not None:
            notes.append(
                f"dropped {rec['id']} ({rec['label']}): same content as "
                f"{other['id']} ({other['label']})"
            )
            continue
        seen[rec["content"]] = rec
        kept.append(rec)
    ham = [r for r in kept if r["label"] == "ham"]
    spam = [r for r in kept if r["label"] == "spam"]

    posts = assign_ham_posts(seed, ham)
    posts_by_site: dict[str, list[Post]] = defaultdict(list)
    seen_permalinks: dict[str, Post] = {}
    for rec in ham:
        p = posts[rec["id"]]
        if p.permalink not in seen_permalinks:
            seen_permalinks[p.permalink] = p
            posts_by_site[p.site["url"]].append(p)

    # Ham dates: within a post, comments are chronological in file order.
    by_post: dict[str, list[dict]] = defaultdict(list)
    for rec in ham:
        by_post[posts[rec["id"]].permalink].append(rec)
    ham_when: dict[str, datetime] = {}
    for permalink in sorted(by_post):
        recs = by_post[permalink]
        post = posts[recs[0]["id"]]
        rng = rng_for(seed, "hamdates", permalink)
        times = sorted(bounded(rng, post.published, ham_delay) for _ in recs)
        for rec, t in zip(recs, times, strict=True):
            ham_when[rec["id"]] = t

    rows: list[dict] = []
    owners: dict[str, str] = {}
    for rec in ham:
        post = posts[rec["id"]]
        when = ham_when[rec["id"]]
        meta = ham_meta(seed, rec, post, when, owners)
        rows.append(make_row(rec, rec["id"], rec["family"], post, when, meta, rec.get("topic")))

    infra = SpamInfra(seed, spam)
    for rec in spam:
        post = choose_spam_post(seed, rec, posts_by_site)
        when = bounded(rng_for(seed, "spamdate", rec["id"]), post.published, spam_delay)
        if posted_by_hand(seed, rec):
            meta = hand_spam_meta(seed, rec, post, when, infra)
        else:
            meta = spam_meta(seed, rec, post, when, infra)
        rows.append(make_row(rec, rec["id"], rec["family"], post, when, meta, post.topic))

    # Obfuscated variants of a random subset of plain spam.
    rng = rng_for(seed, "obfuscation-sample")
    sources = sorted(spam, key=lambda r: r["id"])
    n_obf = min(N_OBFUSCATED, len(sources))
    order = rng.sample(range(len(sources)), len(sources))  # shuffled; take the first n_obf
    used = set(seen)
    technique_counts: Counter = Counter()
    n = 0
    for i in order:
        if n >= n_obf:
            break
        src = sources[i]
        for attempt in range(6):
            orng = rng_for(seed, "obfuscate", src["id"], attempt)
            text, techniques = obfuscate(src["content"], orng)
            if text != src["content"] and text not in used:
                break
        else:
            notes.append(f"could not obfuscate {src['id']} into a new text; skipped")
            continue
        used.add(text)
        n += 1
        vid = f"spam-obf-{n:04d}"
        technique_counts.update(techniques)
        var = dict(src, id=vid, content=text)  # metadata still follows the source family
        post = choose_spam_post(seed, var, posts_by_site)
        when = bounded(rng_for(seed, "spamdate", vid), post.published, spam_delay)
        meta = spam_meta(seed, var, post, when, infra)
        row = make_row(var, src["id"], "obfuscated", post, when, meta, post.topic)
        rows.append(row)
    notes.append(
        "obfuscation techniques used: "
        + ", ".join(f"{k}={v}" for k, v in sorted(technique_counts.items()))
    )

    rows.sort(key=lambda r: r["id"])
    check(rows)
    return rows, notes


def make_row(
    rec: dict, group: str, family: str, post: Post, when: datetime, meta: dict, topic: str | None
) -> dict:
    row = {
        "id": rec["id"],
        "group": group,
        "label": rec["label"],
        "family": family,
        "lang": rec["lang"],
        "topic": topic or "",
        "content": rec["content"],
        "author_name": meta.get("author_name", ""),
        "author_email": meta.get("author_email", ""),
        "author_url": meta.get("author_url", ""),
        "user_ip": meta.get("user_ip", ""),
        "user_agent": meta.get("user_agent", ""),
        "referrer": meta.get("referrer", ""),
        "permalink": post.permalink,
        "comment_type": meta.get("comment_type", "comment"),
        "created_at": iso(when),
        "post_published_at": iso(post.published),
        "honeypot": meta.get("honeypot", ""),
        "site": post.site["url"],
        "user_role": meta.get("user_role", ""),
    }
    return {k: ("" if row[k] is None else str(row[k])) for k in COLUMNS}


def check(rows: list[dict]) -> None:
    """Refuse to write a corpus that breaks its own rules (also under ``python -O``)."""
    ids = Counter(r["id"] for r in rows)
    problems = [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    labels: dict[str, set] = defaultdict(set)
    groups: dict[str, set] = defaultdict(set)
    for r in rows:
        labels[r["content"]].add(r["label"])
        groups[r["content"]].add(r["group"])
        if r["created_at"] < r["post_published_at"]:
            problems.append(f"{r['id']}: comment older than its post")
        if r["user_role"] == "administrator":
            problems.append(f"{r['id']}: administrator comment")
    if any(len(v) > 1 for v in labels.values()):
        problems.append("content with both labels")
    if any(len(v) > 1 for v in groups.values()):
        problems.append("duplicate content across groups")
    if problems:
        raise ValueError("corpus check failed: " + "; ".join(problems[:10]))


def serialise(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------
def md_table(header: list[str], body: list[list[object]]) -> str:
    def numeric(i: int) -> bool:
        return all(re.fullmatch(r"[\d.%-]+", str(row[i]).strip("*")) for row in body)

    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if numeric(i) else "---" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def report(rows: list[dict], markdown: bool) -> str:
    by_label = Counter(r["label"] for r in rows)
    fam = Counter((r["label"], r["family"]) for r in rows)
    langs = sorted(
        {r["lang"] for r in rows},
        key=lambda lang: (-sum(1 for r in rows if r["lang"] == lang), lang),
    )
    lang_lab = Counter((r["lang"], r["label"]) for r in rows)
    out = []
    out.append(
        md_table(
            ["label", "rows"],
            [[k, by_label[k]] for k in sorted(by_label)] + [["**total**", len(rows)]],
        )
    )
    out.append(
        md_table(["label", "family", "rows"], [[lab, f, c] for (lab, f), c in sorted(fam.items())])
    )
    out.append(
        md_table(
            ["lang", "ham", "spam", "total"],
            [
                [
                    lang,
                    lang_lab[(lang, "ham")],
                    lang_lab[(lang, "spam")],
                    lang_lab[(lang, "ham")] + lang_lab[(lang, "spam")],
                ]
                for lang in langs
            ],
        )
    )
    stats = []
    for lab in ("ham", "spam"):
        rs = [r for r in rows if r["label"] == lab]
        n = len(rs)
        if not n:
            continue

        def days(r: dict) -> float:
            a = datetime.fromisoformat(r["created_at"].replace("Z", "+00:00"))
            b = datetime.fromisoformat(r["post_published_at"].replace("Z", "+00:00"))
            return (a - b).total_seconds() / 86400

        ds = sorted(days(r) for r in rs)
        bot = sum(
            1
            for r in rs
            if not r["user_agent"].startswith("Mozilla/5.0 (") or "MSIE" in r["user_agent"]
        )
        stats.append(
            [
                lab,
                n,
                pct(sum(1 for r in rs if r["author_url"]), n),
                pct(sum(1 for r in rs if not r["author_email"]), n),
                pct(sum(1 for r in rs if r["author_email"].endswith("@gmail.com")), n),
                pct(sum(1 for r in rs if not r["referrer"]), n),
                pct(sum(1 for r in rs if r["referrer"].startswith(r["permalink"])), n),
                pct(bot, n),
                pct(sum(1 for r in rs if ":" in r["user_ip"]), n),
                pct(sum(1 for r in rs if r["honeypot"]), n),
                f"{ds[n // 2]:.1f}",
                pct(sum(1 for d in ds if d > 90), n),
                pct(sum(1 for r in rs if r["comment_type"] in ("trackback", "pingback")), n),
            ]
        )
    out.append(
        md_table(
            [
                "label",
                "rows",
                "author_url set",
                "no e-mail",
                "gmail",
                "no referrer",
                "referrer = post",
                "non-browser UA",
                "IPv6",
                "honeypot filled",
                "median days after post",
                "> 90 days after post",
                "track/pingback",
            ],
            stats,
        )
    )
    text = "\n\n".join(out)
    if markdown:
        return text
    return "\n".join(line for line in text.splitlines() if not line.startswith("|---"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="directory of raw/*.jsonl")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSONL path")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = ap.parse_args(argv)

    rows, notes = build(args.raw, args.seed)
    data = serialise(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    if not args.quiet:
        for note in notes:
            print("note:", note, file=sys.stderr)
        print(f"wrote {len(rows)} rows to {args.out}")
        print(report(rows, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
