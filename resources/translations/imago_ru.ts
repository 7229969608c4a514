<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ru_RU">
<context>
    <name>DetailsPanel</name>
    <message>
        <location filename="../../desktop/details_panel.py" line="23" />
        <source>Categories</source>
        <translation>Категории</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="24" />
        <source>Names</source>
        <translation>Названия</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="73" />
        <source>Curator's description (saved when you leave the field)</source>
        <translation>Описание хранителя (сохраняется, когда вы покидаете поле)</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="80" />
        <source>Generated caption</source>
        <translation>Сгенерированная подпись</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="82" />
        <source>Description</source>
        <translation>Описание</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="98" />
        <source>Select an image to see its details.</source>
        <translation>Выберите изображение, чтобы увидеть подробности.</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="105" />
        <source>Loading preview…</source>
        <translation>Загрузка просмотра…</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="109" />
        <source>  (region {w}×{h} at {x},{y})</source>
        <translation>  (область {w}×{h} в точке {x},{y})</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="118" />
        <source>Size</source>
        <translation>Размер</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="119" />
        <source>{size} px, {bytes}</source>
        <translation>{size} пикс., {bytes}</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="121" />
        <source>Format</source>
        <translation>Формат</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="123" />
        <source>Indexed</source>
        <translation>Проиндексировано</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="124" />
        <source>Item</source>
        <translation>Элемент</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="128" />
        <source>Content hash</source>
        <translation>Хеш содержимого</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="134" />
        <source>No preview (file missing or unreadable)</source>
        <translation>Нет просмотра (файл отсутствует или не читается)</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="153" />
        <source>confirmed</source>
        <translation>подтверждено</translation>
    </message>
    <message>
        <location filename="../../desktop/details_panel.py" line="161" />
        <source>No categories yet</source>
        <translation>Категорий пока нет</translation>
    </message>
</context>
<context>
    <name>ExceptionHook</name>
    <message>
        <location filename="../../desktop/error_dialog.py" line="25" />
        <source>&lt;p&gt;&lt;b&gt;Something went wrong:&lt;/b&gt; {error}&lt;/p&gt;&lt;p&gt;Your work is saved (descriptions are saved as you edit). The details are in the log folder:&lt;br&gt;&lt;code&gt;{logs}&lt;/code&gt;&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Что-то пошло не так:&lt;/b&gt; {error}&lt;/p&gt;&lt;p&gt;Ваша работа сохранена (описания сохраняются по мере правки). Подробности — в папке журналов:&lt;br&gt;&lt;code&gt;{logs}&lt;/code&gt;&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/error_dialog.py" line="65" />
        <source>Imago — unexpected error</source>
        <translation>Imago — непредвиденная ошибка</translation>
    </message>
</context>
<context>
    <name>GridModel</name>
    <message>
        <location filename="../../desktop/grid_model.py" line="151" />
        <source>{name} [region]</source>
        <translation>{name} [область]</translation>
    </message>
    <message>
        <location filename="../../desktop/grid_model.py" line="196" />
        <source>region x={x} y={y} w={w} h={h}</source>
        <translation>область x={x} y={y} ш={w} в={h}</translation>
    </message>
    <message>
        <location filename="../../desktop/grid_model.py" line="201" />
        <source>score {score:.4f}</source>
        <translation>оценка {score:.4f}</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/main_window.py" line="70" />
        <source>&lt;h2&gt;No model bundles installed&lt;/h2&gt;
&lt;p&gt;Imago needs a CLIP model bundle to search images by meaning. You can still browse what is
already indexed.&lt;/p&gt;
&lt;p&gt;On a computer with internet access, create the bundles with&lt;br&gt;
&lt;code&gt;imago models export clip openai/clip-vit-base-patch32 --out clip-bundle&lt;/code&gt;&lt;br&gt;
then copy the folder (or a zip of it) here and install it with the buttons below, or with&lt;br&gt;
&lt;code&gt;imago models install clip-bundle&lt;/code&gt;&lt;/p&gt;
&lt;p&gt;Bundles are installed in &lt;code&gt;{models_dir}&lt;/code&gt;.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Пакеты моделей не установлены&lt;/h2&gt;
&lt;p&gt;Для поиска изображений по смыслу Imago нужен пакет модели CLIP. Уже проиндексированное
можно просматривать и без него.&lt;/p&gt;
&lt;p&gt;На компьютере с доступом в интернет создайте пакеты командой&lt;br&gt;
&lt;code&gt;imago models export clip openai/clip-vit-base-patch32 --out clip-bundle&lt;/code&gt;&lt;br&gt;
затем скопируйте папку (или её zip-архив) сюда и установите кнопками ниже или командой&lt;br&gt;
&lt;code&gt;imago models install clip-bundle&lt;/code&gt;&lt;/p&gt;
&lt;p&gt;Пакеты устанавливаются в &lt;code&gt;{models_dir}&lt;/code&gt;.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="82" />
        <source>&lt;h2&gt;Open an archive folder&lt;/h2&gt;
&lt;p&gt;Choose the folder holding your images (&lt;b&gt;File › Open archive…&lt;/b&gt;, Ctrl+O).
Imago indexes it in the background; its index is kept in a &lt;code&gt;.imago&lt;/code&gt; folder inside it
(or in your user data folder when the archive is read-only).&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Откройте папку архива&lt;/h2&gt;
&lt;p&gt;Выберите папку с изображениями (&lt;b&gt;Файл › Открыть архив…&lt;/b&gt;, Ctrl+O).
Imago проиндексирует её в фоне; индекс хранится в папке &lt;code&gt;.imago&lt;/code&gt; внутри неё
(или в папке данных пользователя, если архив только для чтения).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="178" />
        <source>Search by text (Enter), or drop an image to find similar ones</source>
        <translation>Поиск по тексту (Enter) или перетащите изображение, чтобы найти похожие</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="192" />
        <source>Install model bundle from folder…</source>
        <translation>Установить пакет модели из папки…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="194" />
        <source>Install model bundle from zip…</source>
        <translation>Установить пакет модели из zip…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="205" />
        <source>More results</source>
        <translation>Больше результатов</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="206" />
        <source>Show the results below the relevance cut-off too</source>
        <translation>Показать и результаты ниже порога релевантности</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="208" />
        <source>Show all files</source>
        <translation>Показать все файлы</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="255" />
        <source>&amp;File</source>
        <translation>&amp;Файл</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="256" />
        <source>&amp;Open archive…</source>
        <translation>&amp;Открыть архив…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="259" />
        <source>Open &amp;recent</source>
        <translation>&amp;Недавние</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="262" />
        <source>Install model bundle from &amp;folder…</source>
        <translation>Установить пакет модели из &amp;папки…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="264" />
        <source>Install model bundle from &amp;zip…</source>
        <translation>Установить пакет модели из &amp;zip…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="269" />
        <source>&amp;Settings…</source>
        <translation>&amp;Настройки…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="273" />
        <source>&amp;Quit</source>
        <translation>&amp;Выход</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="276" />
        <source>Find</source>
        <translation>Найти</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="279" />
        <source>&amp;Edit</source>
        <translation>&amp;Правка</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="280" />
        <source>Find similar to the &amp;pasted image</source>
        <translation>Найти похожие на &amp;вставленное изображение</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="294" />
        <location filename="../../desktop/main_window.py" line="473" />
        <source>Pause</source>
        <translation>Пауза</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="337" />
        <source>Open archive folder</source>
        <translation>Открыть папку архива</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="361" />
        <source>Not a folder: {path}</source>
        <translation>Это не папка: {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="381" />
        <source>The archive is read-only; its index is kept in {path}</source>
        <translation>Архив только для чтения; его индекс хранится в {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="388" />
        <source>Not indexing: no CLIP model bundle installed</source>
        <translation>Индексация не идёт: не установлен пакет модели CLIP</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="395" />
        <source>Nothing indexed yet</source>
        <translation>Пока ничего не проиндексировано</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="422" />
        <source>Indexed images and regions: {count}</source>
        <translation>Проиндексировано изображений и областей: {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="449" />
        <source>Loading models…</source>
        <translation>Загрузка моделей…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="469" />
        <source>Resume</source>
        <translation>Продолжить</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="470" />
        <location filename="../../desktop/main_window.py" line="489" />
        <source> (paused)</source>
        <translation> (пауза)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="478" />
        <source>Scanning</source>
        <translation>Сканирование</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="478" />
        <source>Indexing</source>
        <translation>Индексация</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="478" />
        <source>Describing</source>
        <translation>Описание</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="483" />
        <source>, {rate:.1f}/s</source>
        <translation>, {rate:.1f}/с</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="506" />
        <source>&lt;a href='#'&gt;Failed: {count}&lt;/a&gt;</source>
        <translation>&lt;a href='#'&gt;Ошибок: {count}&lt;/a&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="516" />
        <source>Not indexing: no CLIP model bundle</source>
        <translation>Индексация не идёт: нет пакета модели CLIP</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="518" />
        <source>Indexing failed</source>
        <translation>Индексация не удалась</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="520" />
        <source>Indexing failed: {error}</source>
        <translation>Индексация не удалась: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="526" />
        <source>Indexing cancelled</source>
        <translation>Индексация отменена</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="526" />
        <source>Index up to date</source>
        <translation>Индекс актуален</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="528" />
        <source>{state}: searchable {items}, new {new}, moved {moved}</source>
        <translation>{state}: доступно для поиска {items}, новых {new}, перемещено {moved}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="541" />
        <source>Files that could not be indexed: {count}</source>
        <translation>Файлов, которые не удалось проиндексировать: {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="543" />
        <source>Files that could not be indexed</source>
        <translation>Файлы, которые не удалось проиндексировать</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="551" />
        <source>Model bundle folder</source>
        <translation>Папка пакета модели</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="557" />
        <source>Model bundle zip</source>
        <translation>Zip-архив пакета модели</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="557" />
        <source>Zip archives (*.zip)</source>
        <translation>Zip-архивы (*.zip)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="564" />
        <source>Installing model bundle from {path}…</source>
        <translation>Установка пакета модели из {path}…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="572" />
        <source>Installed model bundle {name}</source>
        <translation>Установлен пакет модели {name}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="582" />
        <source>Could not install the bundle: {error}</source>
        <translation>Не удалось установить пакет: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="584" />
        <source>Model bundle not installed</source>
        <translation>Пакет модели не установлен</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="606" />
        <source>similar to item #{id}</source>
        <translation>похожие на элемент №{id}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="607" />
        <source>similar to {name}</source>
        <translation>похожие на {name}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="618" />
        <source>Open an archive first (File › Open archive…)</source>
        <translation>Сначала откройте архив (Файл › Открыть архив…)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="622" />
        <source>Searching {query}…</source>
        <translation>Поиск: {query}…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="638" />
        <source> — more exist below the relevance cut-off</source>
        <translation> — есть ещё результаты ниже порога релевантности</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="639" />
        <source>{query} — found: {count}</source>
        <translation>{query} — найдено: {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="712" />
        <source>Cannot store the pasted image in {path}</source>
        <translation>Не удалось сохранить вставленное изображение в {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="734" />
        <source>Settings not saved</source>
        <translation>Настройки не сохранены</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="737" />
        <source>Settings saved; they apply to the next indexing run</source>
        <translation>Настройки сохранены; они применятся при следующей индексации</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="747" />
        <source>Find similar</source>
        <translation>Найти похожие</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="749" />
        <source>Open</source>
        <translation>Открыть</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="750" />
        <source>Show in file manager</source>
        <translation>Показать в файловом менеджере</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="752" />
        <source>Copy path</source>
        <translation>Копировать путь</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="801" />
        <source>Description saved</source>
        <translation>Описание сохранено</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="808" />
        <source>Description not saved</source>
        <translation>Описание не сохранено</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="809" />
        <source>The description could not be saved: {error}</source>
        <translation>Не удалось сохранить описание: {error}</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="15" />
        <source>Automatic (GPU when usable)</source>
        <translation>Автоматически (GPU, если доступен)</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="16" />
        <source>CPU only</source>
        <translation>Только CPU</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="17" />
        <source>GPU (CUDA)</source>
        <translation>GPU (CUDA)</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="20" />
        <source>GIT base (faster)</source>
        <translation>GIT base (быстрее)</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="21" />
        <source>GIT large (better)</source>
        <translation>GIT large (качественнее)</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="23" />
        <source>System language</source>
        <translation>Язык системы</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="41" />
        <source>Imago settings</source>
        <translation>Настройки Imago</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="46" />
        <source>Automatic</source>
        <translation>Автоматически</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="50" />
        <source>Device</source>
        <translation>Устройство</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="51" />
        <source>Threads per model</source>
        <translation>Потоков на модель</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="52" />
        <source>Caption model</source>
        <translation>Модель подписей</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="53" />
        <source>Caption beams</source>
        <translation>Лучей поиска подписей</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="54" />
        <source>Language</source>
        <translation>Язык</translation>
    </message>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="59" />
        <source>Changes apply to the next indexing run and search; the language to the next start.</source>
        <translation>Изменения применятся при следующей индексации и поиске, язык — при следующем запуске.</translation>
    </message>
</context>
</TS>