"""Synthetic English news text for the replica.

Why it exists: the replica must look like www.ecns.cn to a crawler (sentences,
quotes, names, numbers, places) without containing a single real sentence of the
site. Everything here is composed from our own templates and word lists by a
seeded ``random.Random``, so the same seed always gives the same text.

The lists are guesses at what the site's vocabulary looks like; change them freely.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

# --- Word lists (ours; edit at will) ------------------------------------------------

# Invented people, with their names in Chinese for the "Name (名字)" variation.
PEOPLE_CN: dict[str, str] = {
    "Zhang Wei": "张伟",
    "Wang Fang": "王芳",
    "Chen Jie": "陈杰",
    "Liu Yang": "刘洋",
    "Zhao Min": "赵敏",
    "Zhou Ning": "周宁",
    "Wu Qiang": "吴强",
    "Ma Jun": "马骏",
    "Guo Hua": "郭华",
    "He Ping": "何平",
    "Lin Tao": "林涛",
    "Gao Yue": "高悦",
    "Luo Bin": "罗斌",
    "Xu Jing": "徐静",
    "Zheng Hao": "郑浩",
    "Han Mei": "韩梅",
    "Feng Rui": "冯睿",
    "Tang Xin": "唐欣",
    "Cao Yu": "曹宇",
    "Deng Hui": "邓辉",
    "Xie Lan": "谢兰",
    "Song Kai": "宋凯",
    "Jiang Wen": "蒋雯",
    "Pan Lei": "潘磊",
}
PEOPLE = tuple(PEOPLE_CN)
FOREIGN_PEOPLE = (
    "Maria Santos",
    "Ahmed Karim",
    "Peter Lindqvist",
    "Amara Okafor",
    "Hans Becker",
    "Lucia Moreno",
    "Kenji Watanabe",
    "Olga Petrova",
    "David Mensah",
    "Sarah Collins",
    "Rahul Mehta",
    "Nguyen Van Minh",
)
# Desk editors named in the "Editor  : Name" span, with their mail comments.
EDITORS = (
    "Li Yan",
    "Zhang Jing",
    "Wu Siyu",
    "Chen Hao",
    "Liu Ming",
    "Xu Lan",
    "Zhou Qian",
    "Yang Rui",
    "He Xin",
    "Lu Ting",
)
ORGS = (
    "the Ministry of Commerce",
    "the Ministry of Foreign Affairs",
    "the National Development and Reform Commission",
    "the Ministry of Transport",
    "the National Health Commission",
    "the Ministry of Education",
    "the Ministry of Ecology and Environment",
    "the National Bureau of Statistics",
    "the State Council Information Office",
    "the Ministry of Industry and Information Technology",
    "the China Meteorological Administration",
    "the Civil Aviation Administration of China",
    "the Ministry of Culture and Tourism",
    "the General Administration of Customs",
    "the National Energy Administration",
    "the Ministry of Water Resources",
)
INSTITUTES = (
    "the Chinese Academy of Social Sciences",
    "the Chinese Academy of Sciences",
    "Tsinghua University",
    "Peking University",
    "Fudan University",
    "Renmin University of China",
    "Zhejiang University",
    "Nankai University",
    "Wuhan University",
    "Xiamen University",
)
# Invented companies.
COMPANIES = (
    "Jinghai Electric",
    "Ruifeng Textiles",
    "Lanshan New Energy",
    "Tianyu Robotics",
    "Baihe Agricultural Technology",
    "Qingyun Semiconductor",
    "Haixin Shipping",
    "Yunfeng Cold Chain",
    "Huayue Pharmaceuticals",
    "Xingchen Aerospace",
)
CITIES = (
    "Beijing",
    "Shanghai",
    "Guangzhou",
    "Shenzhen",
    "Chengdu",
    "Chongqing",
    "Wuhan",
    "Hangzhou",
    "Nanjing",
    "Xi'an",
    "Tianjin",
    "Harbin",
    "Kunming",
    "Xiamen",
    "Qingdao",
    "Changsha",
    "Zhengzhou",
    "Shenyang",
    "Lanzhou",
    "Urumqi",
    "Lhasa",
    "Haikou",
    "Nanning",
    "Hefei",
    "Fuzhou",
    "Jinan",
    "Guiyang",
    "Hohhot",
)
PROVINCES = (
    "Guangdong Province",
    "Zhejiang Province",
    "Jiangsu Province",
    "Sichuan Province",
    "Yunnan Province",
    "Hubei Province",
    "Hunan Province",
    "Shandong Province",
    "Fujian Province",
    "Hainan Province",
    "Heilongjiang Province",
    "Shaanxi Province",
    "Gansu Province",
    "Guizhou Province",
    "Anhui Province",
    "Inner Mongolia Autonomous Region",
    "Guangxi Zhuang Autonomous Region",
    "Xinjiang Uygur Autonomous Region",
)
COUNTRIES = (
    "Brazil",
    "Kenya",
    "Indonesia",
    "Germany",
    "France",
    "Egypt",
    "Kazakhstan",
    "Pakistan",
    "Thailand",
    "Argentina",
    "Malaysia",
    "Nigeria",
    "Hungary",
    "Serbia",
    "Vietnam",
    "Chile",
    "Uzbekistan",
    "Laos",
    "Cambodia",
    "New Zealand",
    "South Africa",
    "Mexico",
    "Peru",
    "Greece",
    "Tanzania",
)
# Subjects a story can be about, by the kind of section it appears in.
TOPICS: dict[str, tuple[str, ...]] = {
    "politics": (
        "bilateral ties",
        "people-to-people exchanges",
        "regional security",
        "trade and investment",
        "green development",
        "the rule of law",
        "public health cooperation",
        "poverty reduction",
        "maritime cooperation",
        "cultural exchanges",
        "connectivity projects",
        "disaster relief",
        "rural revitalization",
        "youth exchanges",
    ),
    "economy": (
        "foreign trade",
        "retail sales",
        "industrial output",
        "new energy vehicles",
        "cross-border e-commerce",
        "consumer spending",
        "the digital economy",
        "manufacturing investment",
        "cold-chain logistics",
        "inbound tourism",
        "green finance",
        "grain production",
    ),
    "society": (
        "elderly care",
        "school meal programs",
        "urban renewal",
        "flood prevention",
        "rural healthcare",
        "public transport",
        "winter heating",
        "food safety",
        "youth employment",
        "community libraries",
    ),
    "sci-tech": (
        "satellite launches",
        "quantum communication",
        "deep-sea exploration",
        "artificial intelligence",
        "gene sequencing",
        "polar research",
        "hydrogen energy",
        "commercial spaceflight",
        "high-speed maglev trains",
        "crop breeding",
    ),
    "culture": (
        "ice-and-snow tourism",
        "heritage protection",
        "rail tourism",
        "night markets",
        "folk music",
        "lantern festivals",
        "museum exhibitions",
        "tea culture",
    ),
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ACTIONS = (
    "expand",
    "deepen",
    "strengthen",
    "upgrade",
    "speed up",
    "promote",
    "support",
    "improve",
)
OUTCOMES = (
    "create more jobs for local residents",
    "bring tangible benefits to both peoples",
    "ease the burden on small businesses",
    "make public services more accessible",
    "cut carbon emissions in key industries",
    "keep supply chains stable",
    "open new markets for farm produce",
    "shorten travel times between major cities",
)
SUBHEADINGS = (
    "Steady progress",
    "What comes next",
    "New engines of growth",
    "Closer ties",
    "A wider market",
    "Voices from the ground",
    "Looking ahead",
    "Room for improvement",
    "In numbers",
)
PHOTO_SCENES = (
    "Visitors tour an exhibition",
    "Workers check equipment at a construction site",
    "Residents take part in a community event",
    "Delegates attend a meeting",
    "Tourists enjoy the view",
    "A high-speed train runs past fields",
    "Cargo ships wait at a port",
    "Children try traditional crafts",
    "Technicians inspect solar panels",
    "Performers rehearse on stage",
)

# --- Templates ----------------------------------------------------------------------
# Fields: {topic} {city} {city2} {province} {country} {org} {institute} {company}
# {person} {surname} {role} {foreigner} {fsurname} {action} {outcome} {day} and numbers
# {n} {n2} {big} {pct} {months} {amount} {ordinal} {year}.

LEADS = (
    "{city} will {action} {topic} over the next {n} years under a plan released on {day} by {org}.",
    "{person}, {role}, said on {day} that the country would {action} {topic} to {outcome}.",
    "China and {country} agreed on {day} to {action} cooperation on {topic}, "
    "according to a statement issued after talks in {city}.",
    "Officials in {province} have launched a campaign to {action} {topic}, "
    "with {n} pilot projects set to start before the end of the year.",
    "A forum on {topic} opened in {city} on {day}, drawing more than {big} participants "
    "from {n} countries and regions.",
    "Figures released by {org} on {day} showed that {topic} grew {pct} percent "
    "year on year in the first {months} months.",
    "A delegation from {country} arrived in {city} on {day} for a {n2}-day visit focused "
    "on {topic}.",
    "{company} on {day} unveiled a {amount} million yuan project in {province} aimed at {topic}.",
    "New guidelines on {topic} issued by {org} on {day} call on local governments to {outcome}.",
    "Hundreds of residents in {city} turned out on {day} for the launch of a program on "
    "{topic}, the first of its kind in {province}.",
)
SENTENCES = (
    "{surname} said the measures would help {outcome}.",
    "The program covers {n} cities, including {city} and {city2}.",
    "More than {big} people have benefited from the initiative since it began, "
    "local authorities said.",
    "Analysts said the move reflected growing demand for {topic} in {province}.",
    "{foreigner}, a visiting scholar from {country}, said the experience in {city} "
    "offered useful lessons for other developing countries.",
    "The plan sets out {n} key tasks, from upgrading infrastructure to training skilled workers.",
    "According to {org}, investment in the sector reached {amount} billion yuan last year.",
    "Both sides also discussed {topic} and other matters they care about.",
    "Local companies such as {company} have already signed agreements worth {amount} million yuan.",
    "{surname} noted that the work would be carried out step by step and in line with "
    "local conditions.",
    "The event is the {ordinal} of its kind and is expected to become an annual fixture.",
    "It is part of a wider effort to {action} {topic} across the country.",
    "{company} said it planned to open {n} new sites in {province} next year.",
    "The figure was {pct} percentage points higher than in the same period of last year.",
    "By the end of {year}, the number of participating counties is expected to exceed {n2}0.",
    "Ties between {city} and partners in {country} have grown quickly over the past decade.",
    "Farmers and small traders in the area say the change has already made a difference.",
    "The ministry said it would publish detailed rules within {months} months.",
    "{fsurname} described the talks as frank and productive.",
    "Experts at {institute} have been asked to assess the results every six months.",
    "A hotline has been set up for the public to report problems or make suggestions.",
    "Train and flight services to {city} were increased to cope with the extra demand.",
    "The project is expected to be completed in {year} at a total cost of {amount} million yuan.",
    "Students from {n} universities took part in the first round of the program.",
    "The agreement also covers personnel training, joint research and information sharing.",
    "Officials said safety inspections would be stepped up ahead of the holiday season.",
    "Exports of related products to {country} rose {pct} percent over the same period.",
    "{surname} called for closer coordination among government departments, businesses "
    "and research bodies.",
    "The scheme was first tried out in {city2} before being extended to other regions.",
    "Organizers said a second session would be held in {city2} later this year.",
    "About {pct} percent of those surveyed said they were satisfied with the service.",
    "Some {big} volunteers have joined the effort, many of them retired teachers and doctors.",
    "Small and medium-sized firms will be given priority when applying for the funds.",
    "The authorities have also promised to cut red tape for foreign investors in the sector.",
    "{foreigner} said {country} hoped to learn from China's experience in {topic}.",
    "Work on the second phase is scheduled to begin next spring.",
)
QUOTES = (
    "We will continue to {action} {topic} and {outcome}",
    "This is only the beginning, and there is a lot more we can do together",
    "Our goal is simple: to {outcome}",
    "The results so far have been encouraging",
    "Cooperation on {topic} serves the interests of both sides",
    "We have seen real changes in the lives of ordinary people",
    "There is still a long way to go, but the direction is clear",
    "We welcome more partners to join us",
)
QUOTE_FRAMES = (
    '"{quote}," {surname} said.',
    '"{quote}," {surname} told reporters on the sidelines of the meeting.',
    '"{quote}," said {fsurname}.',
)
CITY_ENUM = (
    "Pilot programs have already started in {cities}.",
    "Trial runs will be held in {cities} before the service is rolled out nationwide.",
    "Demand has been strongest in {cities}, the report said.",
    "The exhibition will travel to {cities} over the coming months.",
)
CN_NAME_SENTENCES = (
    "{name} ({cn}), {role}, said the results had exceeded expectations.",
    "The delegation was led by {name} ({cn}), {role}.",
    "{name} ({cn}), {role}, presided over the opening ceremony.",
)
TITLES: dict[str, tuple[str, ...]] = {
    "politics": (
        "China, {country} pledge closer cooperation on {topic}",
        "Chinese FM holds talks with {country} counterpart in {city}",
        "Spokesperson: China ready to {action} {topic} with {country}",
        "{country} delegation visits {city} to discuss {topic}",
        "Senior official calls for efforts to {action} {topic}",
        "China's top legislator meets {country} guests",
        "Envoy says China-{country} ties enjoy broad prospects",
        "Forum on {topic} opens in {city}",
        "China, {country} sign deals on {topic}",
        "Officials vow to {action} {topic} in {province}",
        "{country}'s parliament speaker to visit China",
        "Premier stresses need to {action} {topic}",
        "Vice-president meets {country} guests in {city}",
        "China, {country} mark anniversary of ties with {topic} push",
    ),
    "economy": (
        "{topic_cap} grows {pct} pct in first {months} months",
        "{city} unveils measures to {action} {topic}",
        "China's {topic} hits record high",
        "{company} expands into {country}",
        "{province} sees rise in {topic}",
        "Experts upbeat on outlook for {topic}",
        "New rules to {action} {topic} take effect",
        "{company} bets on {topic} in {city}",
        "Policy support to {action} {topic} in {province}",
    ),
    "society": (
        "{city} steps up efforts on {topic}",
        "More residents benefit from {topic} in {province}",
        "New guideline targets {topic}",
        "{city} volunteers help improve {topic}",
        "Survey: public satisfaction with {topic} rises",
        "{province} pledges more funds for {topic}",
    ),
    "sci-tech": (
        "Chinese scientists make progress in {topic}",
        "{city} lab unveils new platform for {topic}",
        "China completes key test for {topic}",
        "Researchers at {institute} report advance in {topic}",
        "{company} unveils new system for {topic}",
    ),
    "culture": (
        "{city} draws crowds with {topic}",
        "Photos: {topic} in {province}",
        "{city} celebrates {topic} season",
        "Video: a closer look at {topic} in {city}",
        "Visitors flock to {city} for {topic}",
    ),
}
CREDIT_FORMS = ("xinhua", "cns", "agency")
ROLES = (
    "a spokesperson for {org}",
    "deputy director of {org}",
    "a researcher at {institute}",
    "vice-mayor of {city}",
    "a senior official with {org}",
    "an associate professor at {institute}",
    "chairman of {company}",
)
ORDINALS = ("first", "second", "third", "fifth", "seventh", "10th", "12th")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def enumerate_words(words: Sequence[str]) -> str:
    """``a, b, c and d``."""
    return ", ".join(words[:-1]) + " and " + words[-1]


class TextGen:
    """The random stream all text is drawn from; :meth:`story` starts the text of
    one story."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, items: Sequence[str]) -> str:
        return items[int(self.rng.random() * len(items))]

    def story(self, topic_kind: str) -> StoryText:
        """``topic_kind`` is a key of :data:`TOPICS` and :data:`TITLES`."""
        return StoryText(self, topic_kind)


class StoryText:
    """The text of one story: a cast, a place and a subject kept throughout, and
    sentence templates drawn without repetition, so a story reads as one and two
    stories rarely share sentences."""

    def __init__(self, tg: TextGen, topic_kind: str) -> None:
        self.tg = tg
        self.rng = tg.rng
        self.kind = topic_kind
        pick = tg.pick
        person, foreigner = pick(PEOPLE), pick(FOREIGN_PEOPLE)
        city = pick(CITIES)
        self.fields = {
            "topic": pick(TOPICS[topic_kind]),
            "city": city,
            "city2": pick([c for c in CITIES[:14] if c != city]),
            "province": pick(PROVINCES),
            "country": pick(COUNTRIES),
            "org": pick(ORGS),
            "institute": pick(INSTITUTES),
            "company": pick(COMPANIES),
            "person": person,
            "surname": person.split()[0],
            "foreigner": foreigner,
            "fsurname": foreigner.split()[-1],
        }
        self.fields["role"] = pick(ROLES).format(**self.fields)
        self._sentences = list(SENTENCES)
        self.rng.shuffle(self._sentences)
        self._leads = list(LEADS)
        self.rng.shuffle(self._leads)
        self._quotes = list(QUOTES)
        self.rng.shuffle(self._quotes)
        self._subheadings = list(SUBHEADINGS)
        self.rng.shuffle(self._subheadings)

    def fill(self, template: str) -> str:
        rng = self.rng
        f = dict(self.fields)
        f.update(
            topic_cap=_cap(f["topic"]),
            action=self.tg.pick(ACTIONS),
            outcome=self.tg.pick(OUTCOMES),
            day=self.tg.pick(WEEKDAYS),
            n=str(rng.randint(3, 30)),
            n2=str(rng.randint(2, 9)),
            big=f"{rng.randint(2, 90) * 100:,}",
            pct=f"{rng.randint(1, 19)}.{rng.randint(1, 9)}",
            months=str(rng.randint(2, 11)),
            amount=str(rng.randint(12, 980)),
            ordinal=self.tg.pick(ORDINALS),
            year=str(rng.randint(2025, 2030)),
        )
        return template.format(**f)

    def title(self) -> str:
        return _cap(self.fill(self.tg.pick(TITLES[self.kind])))

    def lead(self) -> str:
        template = self._leads.pop() if self._leads else self.tg.pick(LEADS)
        return self.fill(template)

    def sentence(self) -> str:
        if self._quotes and self.rng.random() < 0.12:
            quote = self.fill(self._quotes.pop())
            return self.fill(self.tg.pick(QUOTE_FRAMES).replace("{quote}", quote))
        template = self._sentences.pop() if self._sentences else self.tg.pick(SENTENCES)
        return self.fill(template)

    def sentences(self, count: int) -> list[str]:
        return [self.sentence() for _ in range(count)]

    def city_enumeration(self) -> str:
        cities = self.rng.sample(CITIES[:14], self.rng.randint(3, 5))
        return self.tg.pick(CITY_ENUM).format(cities=enumerate_words(cities))

    def chinese_name_sentence(self) -> str:
        name = self.tg.pick([p for p in PEOPLE if p != self.fields["person"]])
        template = self.tg.pick(CN_NAME_SENTENCES)
        return self.fill(template.replace("{name}", name).replace("{cn}", PEOPLE_CN[name]))

    def subheading(self) -> str:
        return self._subheadings.pop() if self._subheadings else self.tg.pick(SUBHEADINGS)

    def byline(self) -> str:
        person = self.tg.pick(PEOPLE)
        if self.rng.random() < 0.6:
            return f"By {person}"
        return f"By {person} in {self.tg.pick(CITIES)}"

    def caption(self) -> str:
        """A photo caption ending in a credit, in one of the site's three forms."""
        pick = self.tg.pick
        place = self.fields["city"] if self.rng.random() < 0.6 else self.fields["province"]
        scene = f"{pick(PHOTO_SCENES)} in {place}."
        form = pick(CREDIT_FORMS)
        if form == "xinhua":
            credit = "(Photo/Xinhua)"
        elif form == "cns":
            credit = f"(Photo: China News Service/ {pick(PEOPLE)})"
        else:
            org = pick(("FOREIGN MINISTRY", "MINISTRY OF COMMERCE", "CHINA DAILY"))
            credit = f"({pick(PEOPLE).upper()}/{org})"
        return f"{scene} {credit}"
