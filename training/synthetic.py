"""Templated training rows for what the public sets lack: extraction/classification,
summarization, chat/roleplay and writing prompts, and non-English (mostly Japanese) prompts of
every task type. Deterministic for a seed; rows are marked with source ``synthetic:<lang>`` so
the manifest and the evaluation report can keep them apart from real data.

Passages come from the real datasets' text (passed in), so templates wrap realistic content.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from training.datasets import Row


def _row(text: str, source: str, task: str, lang: str = "en") -> Row:
    domain = {"math": "math", "code": "computer_science"}.get(task, "general")
    return Row(text, source, task, domain=domain, lang=lang)

_ENTITIES = ("names", "people", "dates", "email addresses", "company names", "locations", "product names",
             "phone numbers", "prices", "key terms", "organisations", "numbers")
_EXTRACT = (
    "Extract all {e} from the following text:\n{p}",
    "List every {e} mentioned in this passage.\n\n{p}",
    "From the text below, pull out the {e} and return them as JSON.\n\n{p}",
    "Identify the {e} in this message: {p}",
    "Find all {e} in the paragraph and put them in a table.\n{p}",
    "Return a JSON object with the {e} found in: {p}",
)
_CLASSIFY = (
    "Classify the sentiment of this review as positive, negative or neutral: {r}",
    "Is this customer message a complaint, a question or praise? \"{r}\"",
    "Label the following headline as sports, politics, business or technology: {h}",
    "Which category does this support ticket belong to (billing, technical, account)? {r}",
    "Categorize this product review by topic and sentiment: {r}",
    "Tag the intent of this user query: {h}",
)
_REVIEWS = ("The battery lasts all day but the screen scratches easily.", "Terrible support, I waited two hours.",
            "Great value for the price, would buy again.", "The package arrived late and the box was damaged.",
            "I can't log in to my account since yesterday.", "Why was I charged twice this month?",
            "The new update made the app much faster, thanks!", "Food was cold and the waiter was rude.")
_HEADLINES = ("Local team wins championship after dramatic overtime", "Central bank holds interest rates steady",
              "New smartphone chip promises longer battery life", "Parliament debates new climate bill",
              "Startup raises $40 million to build delivery robots", "how do I reset my password")
_SUMMARIZE = (
    "Summarize the following text in {n} sentences:\n{p}",
    "TL;DR:\n{p}",
    "Give me the key points of this article:\n\n{p}",
    "Condense this paragraph into one line: {p}",
    "Write a short summary of the notes below.\n{p}",
    "Summarise this for a busy executive:\n{p}",
    "Can you briefly summarize what this says? {p}",
)
_WRITING = (
    "Write a {f} about {t}.", "Compose a {f} about {t} for children.", "Draft an email to my manager about {t}.",
    "Write a catchy slogan for a company that sells {t}.", "Write a blog post introduction about {t}.",
    "Write song lyrics about {t}.", "Create a short story in which {t} plays a key role.",
)
_FORMS = ("poem", "haiku", "short story", "limerick", "speech", "cover letter", "product description")
_TOPICS = ("the ocean", "autumn leaves", "a lost cat", "remote work", "coffee", "friendship", "electric cars",
           "a rainy Monday", "space travel", "gardening", "the first day at school")
_CHAT = ("hi", "hello!", "hey, how's it going?", "thanks, that helped a lot!", "good morning", "how are you today?",
         "thank you so much", "lol that's funny", "ok cool", "can you tell me a joke?", "what's up?", "bye for now",
         "I'm bored, talk to me", "nice to meet you")
_ROLEPLAY = ("Pretend you are a {r} and greet a new customer.", "Act as a {r}. I'll ask you questions.",
             "You are a {r}. Stay in character and tell me about your day.",
             "Let's roleplay: you're a {r} and I'm a tourist asking for directions.",
             "Imagine you are a {r} giving advice to a young apprentice.")
_ROLES = ("pirate captain", "medieval innkeeper", "friendly barista", "detective", "travel guide", "wizard",
          "personal trainer", "grumpy librarian")

_JA = {
    "math": ("{a}と{b}の和を求めてください。", "りんごが{a}個、みかんが{b}個あります。全部で何個ですか？",
             "方程式 {a}x + {b} = {c} を解いてください。", "{a}人のクラスで{b}人が欠席しました。出席者は何人ですか？",
             "1個{a}円のノートを{b}冊買うと、いくらになりますか？計算してください。"),
    "code": ("Pythonでリストの重複を削除する関数を書いてください。", "JavaScriptで配列を逆順にするコードを書いて。",
             "次のPythonコードのバグを直してください：\n```python\ndef add(a, b):\n    return a - b\n```",
             "SQLで売上の合計を月ごとに集計するクエリを書いてください。", "Rustで文字列を反転する関数を実装してください。",
             "再帰を使ってフィボナッチ数を求めるプログラムを書いてください。"),
    "knowledge_qa": ("{place}の首都はどこですか？", "光合成とは何ですか？", "徳川家康は誰ですか？",
                     "日本で一番長い川は何ですか？", "{place}の公用語は何ですか？", "DNAとは何の略ですか？"),
    "reasoning": ("なぜ空は青いのか説明してください。", "犬と猫の違いを理由とともに説明してください。",
                  "なぜ冬は寒いのですか？", "もし地球に月がなかったらどうなるか、理由を説明してください。",
                  "電気自動車とガソリン車のどちらが環境に良いか、理由を説明して。"),
    "extraction": ("次の文章から人名を抽出してください：{p}", "次のメールから日付と場所を取り出してください：{p}",
                   "次のレビューの感情を肯定・否定・中立に分類してください：{p}", "以下の文から会社名をすべて抽出して：{p}",
                   "この問い合わせを「請求」「技術」「アカウント」のどれかに分類してください：{p}"),
    "summarization": ("次の文章を要約してください：{p}", "以下の内容を三行でまとめてください。\n{p}",
                      "この記事の要点を教えてください。\n{p}", "次の会議メモを短く要約して：{p}"),
    "writing": ("{t}についての詩を書いてください。", "{t}に関する短い物語を書いて。", "上司へのお礼のメールを書いてください。",
                "{t}をテーマにしたキャッチコピーを作ってください。", "{t}についてのブログ記事の導入を書いてください。"),
    "chat": ("こんにちは！", "元気ですか？", "ありがとうございます。", "おはようございます", "海賊の船長になりきって挨拶してください。",
             "暇だから話し相手になって", "面白い話をして"),
}
_JA_PASSAGES = ("田中さんは3月12日に大阪支社で山本さんと会議を行いました。", "東京は日本の首都であり、世界最大級の都市圏を持つ。",
                "このカメラは画質が良いが、バッテリーの持ちが悪い。", "株式会社サクラは来年、新しい工場を名古屋に建設する予定です。",
                "昨日の会議では予算の見直しと新製品の発売日について話し合いました。")
_JA_TOPICS = ("春", "海", "友情", "猫", "コーヒー", "宇宙", "秋の紅葉")
_JA_PLACES = ("フランス", "ブラジル", "オーストラリア", "カナダ", "エジプト")
_OTHER: dict[str, dict[str, tuple[str, ...]]] = {  # a few prompts per task in other languages, for script variety
    "zh": {"math": ("{a}加{b}等于多少？", "解方程 {a}x + {b} = {c}。"), "knowledge_qa": ("长城有多长？", "法国的首都是哪里？"),
           "chat": ("你好！", "谢谢你"), "summarization": ("请总结以下内容：{p}",), "code": ("用Python写一个排序函数。",)},
    "ko": {"chat": ("안녕하세요!", "고마워요"), "knowledge_qa": ("한국의 수도는 어디인가요?",), "math": ("{a} 더하기 {b}는 얼마인가요?",),
           "writing": ("가을에 대한 시를 써 주세요.",)},
    "de": {"knowledge_qa": ("Wie hoch ist die Zugspitze?", "Wer schrieb Faust?"), "writing": ("Schreibe ein Gedicht über den Herbst.",),
           "summarization": ("Fasse den folgenden Text zusammen: {p}",), "chat": ("Hallo, wie geht's?",)},
    "es": {"math": ("¿Cuánto es {a} por {b}?",), "writing": ("Escribe un poema sobre el mar.",),
           "extraction": ("Extrae todos los nombres del siguiente texto: {p}",), "chat": ("¡Hola! ¿Qué tal?",)},
    "fr": {"knowledge_qa": ("Quelle est la capitale du Canada ?",), "writing": ("Écris un court message de remerciement.",),
           "summarization": ("Résume le texte suivant : {p}",)},
}


def generate(passages: Sequence[str], seed: int = 11, per_template: int = 40) -> list[Row]:
    rng = random.Random(seed)
    short = [p for p in passages if 80 <= len(p) <= 1200] or ["The meeting covered budgets, hiring and the new office."]

    def p() -> str:
        return rng.choice(short)

    rows: list[Row] = []
    for _ in range(per_template):
        for t in _EXTRACT:
            rows.append(_row(t.format(e=rng.choice(_ENTITIES), p=p()), "synthetic:en", "extraction"))
        for t in _CLASSIFY:
            rows.append(_row(t.format(r=rng.choice(_REVIEWS), h=rng.choice(_HEADLINES)), "synthetic:en", "extraction"))
        for t in _SUMMARIZE:
            rows.append(_row(t.format(n=rng.choice((1, 2, 3)), p=p()), "synthetic:en", "summarization"))
        for t in _WRITING:
            rows.append(_row(t.format(f=rng.choice(_FORMS), t=rng.choice(_TOPICS)), "synthetic:en", "writing"))
        for t in _ROLEPLAY:
            rows.append(_row(t.format(r=rng.choice(_ROLES)), "synthetic:en", "chat"))
        rows.append(_row(rng.choice(_CHAT), "synthetic:en", "chat"))
        for task, templates in _JA.items():
            for t in templates:
                rows.append(_row(_fill(t, rng, rng.choice(_JA_PASSAGES), _JA_TOPICS, _JA_PLACES), "synthetic:ja", task,
                                 lang="ja"))
    for lang, by_task in _OTHER.items():
        for task, templates in by_task.items():
            for t in templates:
                for _ in range(per_template // 4):
                    rows.append(_row(_fill(t, rng, p(), _TOPICS, ("Peru",)), f"synthetic:{lang}", task, lang=lang))
    return list({r.text: r for r in rows}.values())  # templates without slots repeat: keep one each


_JA_PREFIX = ("", "", "すみません、", "質問です。", "ねえ、", "ちょっと聞きたいんだけど、")
_JA_SUFFIX = ("", "", "お願いします。", "よろしくお願いします。", "簡潔に答えて。", "できるだけ詳しく。")


def _fill(template: str, rng: random.Random, passage: str, topics: Sequence[str], places: Sequence[str]) -> str:
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    text = template.format(a=a, b=b, c=a * rng.randint(2, 9) + b, p=passage, t=rng.choice(topics),
                           place=rng.choice(places))
    if not text.isascii():  # light augmentation so slot-less templates are not all identical
        text = rng.choice(_JA_PREFIX) + text + rng.choice(_JA_SUFFIX)
    return text
